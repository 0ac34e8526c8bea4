"""``index.html`` of a sweep: a contact sheet of the outputs and plots of metric vs parameter.

The contact sheet is a table: one row per value of the first varied parameter, one column per
combination of the others; each cell shows the run's thumbnail (linked to its output) and its
numbers, or the error of a failed run. The plots (matplotlib, Agg backend, one PNG per varied
parameter in ``plots/``) show each metric against that parameter, one line per combination of
the other parameters. All links are relative, so the folder can be copied or served as it is.
The page is a :class:`neuralpaint.report.Page` (the one HTML builder); the sheet is its markup.
"""

from __future__ import annotations

import html
import io
import json
import math
from pathlib import Path
from typing import Any, Optional, Sequence

from .. import atomic
from .runs import Sweep, label_value
from .results import metrics_of

PLOT_METRICS = ("loss", "seconds")
#: Width of one metric's subplot (inches, 90 dpi).
PLOT_INCHES = 3.2


def _key(v: Any) -> str:
    return json.dumps(v, sort_keys=True, default=str)


def _label(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return ",".join(_label(x) for x in v)
    return label_value(v)


def _distinct(records: Sequence[dict[str, Any]], param: str) -> list[Any]:
    seen: dict[str, Any] = {}
    for r in records:
        v = (r.get("varied") or {}).get(param)
        seen.setdefault(_key(v), v)
    return list(seen.values())


def _fmt(v: Optional[float]) -> str:
    if v is None:
        return "–"
    if isinstance(v, int):
        return str(v)
    return f"{v:.4g}"


def _cell(r: Optional[dict[str, Any]]) -> str:
    if r is None:
        return "<td class='empty'></td>"
    rid = html.escape(r["id"])
    varied = ", ".join(f"{html.escape(str(k))}={html.escape(_label(v))}" for k, v in (r.get("varied") or {}).items())
    if r.get("status") != "done":
        err = html.escape(r.get("error") or r.get("status") or "")
        return (f"<td class='failed'><div class='id'>{rid}</div><div class='err'>failed: {err}</div>"
                f"<div class='v'>{varied}</div></td>")
    out = f"runs/{r['id']}/{r['output']}"
    thumb = f"runs/{r['id']}/{r['thumbnail']}" if r.get("thumbnail") else out
    nums = [f"loss {_fmt(r.get('loss'))}", f"{_fmt(r.get('seconds'))} s"]
    E = r.get("E") or {}
    for k in sorted(E, key=lambda s: int(s) if str(s).isdigit() else 0)[:2]:
        if E[k] is not None:
            nums.append(f"E{k} {_fmt(E[k])}")
    return (f"<td><a href='{html.escape(out)}'><img src='{html.escape(thumb)}' alt='{rid}'></a>"
            f"<div class='v'>{varied}</div><div class='n'>{html.escape(' · '.join(nums))}</div></td>")


def _table(records: Sequence[dict[str, Any]], params: list[str]) -> str:
    """Rows = values of params[0], columns = combinations of the others (present ones only)."""
    if not params:
        return "<table class='sheet'><tr>" + "".join(_cell(r) for r in records) + "</tr></table>"
    row_param, col_params = params[0], params[1:]
    rows = _distinct(records, row_param)
    cols: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    for r in records:  # only the combinations that exist, in run order
        v = r.get("varied") or {}
        c = tuple(v.get(p) for p in col_params)
        if _key(c) not in seen:
            seen.add(_key(c))
            cols.append(c)
    index = {}
    for r in records:
        v = r.get("varied") or {}
        index[(_key(v.get(row_param)), _key(tuple(v.get(p) for p in col_params)))] = r
    head = "<tr><th>" + html.escape(row_param) + "</th>"
    for c in cols:
        head += "<th>" + html.escape(", ".join(f"{p}={_label(v)}" for p, v in zip(col_params, c))) + "</th>"
    head += "</tr>"
    body = ""
    for rv in rows:
        body += f"<tr><th>{html.escape(_label(rv))}</th>"
        for c in cols:
            body += _cell(index.get((_key(rv), _key(c))))
        body += "</tr>"
    return f"<table class='sheet'>{head}{body}</table>"


def contact_sheet(sweep: Sweep, records: Sequence[dict[str, Any]]) -> str:
    """One table per (input, style); inside it, the parameters that vary for that pair."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((str(r.get("input")), str(r.get("style"))), []).append(r)
    out = []
    for (inp, style), rs in groups.items():
        params = [p for p in sweep.parameters if p not in ("input", "style") and len(_distinct(rs, p)) > 1]
        if len(groups) > 1:
            out.append(f"<h3>{html.escape(inp)} &middot; {html.escape(style)}</h3>")
        out.append(_table(rs, params))
    return "\n".join(out)


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def plot_parameter(sweep: Sweep, records: Sequence[dict[str, Any]], param: str, dest: Path) -> Optional[Path]:
    """One PNG: each metric (subplot) vs ``param``, a line per combination of the others."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    done = [r for r in records if r.get("status") == "done" and (r.get("varied") or {}).get(param) is not None]
    if not done:
        return None
    metric_names = [m for m in PLOT_METRICS]
    for r in done:
        for k in metrics_of(r):
            if k.startswith("E") and k not in metric_names and len([m for m in metric_names if m.startswith("E")]) < 2:
                metric_names.append(k)
    xs = _distinct(done, param)
    numeric = _numeric(xs)
    if numeric:
        xs = sorted(xs)
    pos = {(_key(x)): (x if numeric else i) for i, x in enumerate(xs)}
    others = [p for p in sweep.parameters if p != param]

    def short(p: str, v: Any) -> str:
        return Path(str(v)).name if p in ("input", "style") else _label(v)

    groups: dict[str, list[dict[str, Any]]] = {}
    for r in done:
        v = r.get("varied") or {}
        label = ", ".join(f"{p}={short(p, v.get(p))}" for p in others if v.get(p) is not None) or param
        groups.setdefault(label, []).append(r)
    colors = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    # 3.2 in per metric at 90 dpi: four metrics make 1152 px, inside a 1280-px window (the page
    # also scales any wider image down to the window)
    fig, axes = plt.subplots(1, len(metric_names), figsize=(PLOT_INCHES * len(metric_names), 3.4), squeeze=False)
    handles: dict[str, Any] = {}
    for ax, m in zip(axes[0], metric_names):
        ys_all: list[float] = []
        for gi, (label, rs) in enumerate(groups.items()):
            pts = sorted(((pos[_key((r.get("varied") or {}).get(param))], metrics_of(r).get(m)) for r in rs),
                         key=lambda p: p[0])
            pts = [(x, y) for x, y in pts if y is not None and math.isfinite(y)]
            if pts:
                (line,) = ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label,
                                  color=colors[gi % len(colors)], linestyle="-" if gi < len(colors) else "--")
                handles.setdefault(label, line)
                ys_all += [p[1] for p in pts]
        ax.set_title(m)
        ax.set_xlabel(param)
        if numeric and all(x > 0 for x in xs) and max(xs) / min(xs) >= 10:
            ax.set_xscale("log")
        if not numeric:
            ax.set_xticks(range(len(xs)))
            ax.set_xticklabels([_label(x) for x in xs], rotation=20)
        if ys_all and min(ys_all) > 0 and max(ys_all) / min(ys_all) >= 100:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
    if len(groups) > 1:
        fig.legend(list(handles.values()), list(handles.keys()), loc="lower center", fontsize=7,
                   ncol=min(3, len(handles)), frameon=False)
        fig.set_size_inches(fig.get_figwidth(), 3.4 + 0.22 * math.ceil(len(handles) / 3))
        fig.tight_layout(rect=(0, 0.06 * math.ceil(len(handles) / 3) + 0.02, 1, 1))
    else:
        fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    atomic.write_bytes(dest, buf.getvalue())
    return dest


def write_page(out: Path, sweep: Sweep, records: Sequence[dict[str, Any]]) -> Path:
    out = Path(out)
    plots = []
    for p in sweep.parameters:
        if p in ("input", "style"):
            continue
        safe = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in p)
        path = plot_parameter(sweep, records, p, out / "plots" / f"{safe}.png")
        if path is not None:
            plots.append((p, path))
    n_done = sum(1 for r in records if r.get("status") == "done")
    n_failed = sum(1 for r in records if r.get("status") == "failed")
    fixed = ", ".join(f"{k}={_label(v)}" for k, v in sweep.fixed.items()) or "defaults"
    from ..htmlpage import Page, esc  # the one HTML page builder (imported here: it loads media)

    page = Page(out / "index.html", sweep.title, css=_CSS,
                footer="Made by neuralpaint. Readable offline: the images are in runs/ and plots/ beside this file.")
    page.markup(f"<p>{len(records)} runs: {n_done} done, {n_failed} failed. Fixed options: {esc(fixed)}.\n"
                f'Data: <a href="results.csv">results.csv</a>, <a href="results.json">results.json</a>.</p>')
    page.heading("Contact sheet")
    page.markup(contact_sheet(sweep, records))
    page.heading("Plots")
    for name, path in plots:
        page.image(path, f"metrics vs {name}", caption=f"metrics vs {name}")
    if not plots:
        page.paragraph("No plots: no run finished (the errors are in the contact sheet above)." if n_done == 0
                       else "No varied parameter to plot.")
    return page.write()


#: The contact sheet's rules, after the shared ones of :class:`neuralpaint.report.Page` (cells
#: left-aligned and wrapping, unlike the Page's tables of numbers).
_CSS = """
body { font-family: sans-serif; margin: 1.5em; max-width: none; }
table.sheet { border-collapse: collapse; }
.sheet td, .sheet th { border: 1px solid #ccc; padding: 6px; vertical-align: top; font-size: 12px;
  text-align: left; white-space: normal; }
.sheet img { max-width: 192px; max-height: 192px; display: block; image-rendering: pixelated; }
td.failed { background: #fdd; max-width: 220px; }
.err { color: #900; font-family: monospace; white-space: pre-wrap; overflow-wrap: anywhere; }
.v { overflow-wrap: anywhere; }
.v { color: #333; } .n { color: #666; } .id { color: #999; font-size: 10px; }
figure { display: inline-block; margin: 0 1em 1em 0; max-width: 100%; }
figure img { max-width: 100%; height: auto; }
"""


__all__ = ["write_page", "contact_sheet", "plot_parameter"]
