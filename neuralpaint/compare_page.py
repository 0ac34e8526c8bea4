"""The page of a comparison (``DIR/report.html``, :func:`write_compare_report`), through
:class:`neuralpaint.report.Page`; the runs and measurements are :mod:`neuralpaint.compare`'s."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Union

from . import report
from .settings import COMPARE_TABLE_OFFSETS as TABLE_OFFSETS

if TYPE_CHECKING:
    from .compare import CompareResult


def write_compare_report(result: CompareResult, path: Union[str, Path, None] = None) -> Path:
    """``report.html`` of a comparison (plus its images in ``report_files/``)."""
    page = report.Page(Path(path) if path is not None else result.out_dir / "report.html",
                       f"neuralpaint compare: {result.input.name}")
    h, w = result.source_frames[0].shape[:2]
    s = result.settings
    page.definitions([
        ("input", str(result.input)), ("style", str(result.style)),
        ("frames", f"{result.frames} at {w}x{h}"),
        ("settings", ", ".join(f"{k} {s.get(k)}" for k in ("iters", "first_iters", "optimizer", "weights", "flow",
                                                            "offsets", "multipass_passes", "device", "seed")
                               if k in s)),
        ("metric", f"warping error E_k, flows of the source by {result.eval_flow}, "
                   f"k in {', '.join(map(str, result.eval_offsets))}"),
    ])
    if s.get("weights") == "random":
        page.note("These runs used an untrained VGG-19 (--weights random): the pictures do not resemble "
                  "the style and the losses only compare the methods with each other.")

    page.heading("Results")
    rows = []
    for m in result.methods.values():
        r = m.row()
        its = m.iterations / max(1, len(m.frames)) if m.work_dir is not None else None
        rows.append([m.name, r["seconds_per_frame"], its, *[r[f"E_{k}"] for k in TABLE_OFFSETS],
                     r["style_loss"], r["content_loss"]])
    page.table(["method", "s/frame", "iters/frame", *[f"E_{k}" for k in TABLE_OFFSETS], "style loss",
                "content loss"], rows,
               caption="Lower E is steadier. — : no frame pair that far apart.")
    trained = [m for m in result.methods.values() if m.train_seconds is not None]
    if trained:
        page.paragraph(f"{' and '.join(m.name for m in trained)}: the network was trained on the clip's frames "
                       f"for {result.settings.get('fast_steps')} steps in {trained[0].train_seconds:.1f}s before "
                       f"inference (not in s/frame).", cls="muted")
    links = [(m.name, m.output) for m in result.methods.values() if m.output is not None and Path(m.output).exists()]
    if links:
        items = " · ".join(f'<a href="{_href(page, p)}">{report.esc(n)}</a>' for n, p in links)
        page.parts.append(f"<p>Outputs: {items}</p>")

    page.heading("Temporal stability")
    ks = [k for k in result.eval_offsets if any(m.warping and m.warping.E.get(k) is not None
                                                 for m in result.methods.values())]
    page.table(["method", *[f"E_{k}" for k in result.eval_offsets]],
               [[m.name, *[m.warping.E.get(k) if m.warping else None for k in result.eval_offsets]]
                for m in result.methods.values()], caption="Warping error by frame offset k")
    first_k = result.eval_offsets[0]
    series = {m.name: (list(range(1, result.frames + 1)), (m.warping.per_frame.get(first_k) or []))
              for m in result.methods.values() if m.warping is not None}
    report.line_plot(page.asset(f"e{first_k}_per_frame.png"), series, title=f"E_{first_k} per frame",
                     xlabel="frame", ylabel=f"E_{first_k}")
    page.image(page.files[-1], f"E_{first_k} per frame per method")
    if len(ks) > 1:
        series = {m.name: (ks, [m.warping.E.get(k) for k in ks]) for m in result.methods.values() if m.warping}
        report.line_plot(page.asset("e_by_offset.png"), series, title="E_k by offset", xlabel="k", ylabel="E_k")
        page.image(page.files[-1], "E_k by frame offset per method")

    report.quality_section(page, {m.name: m.quality for m in result.methods.values() if m.quality is not None})

    page.heading("Optimisation")
    picked = report.pick_frames(result.frames, 3)
    optim = [m for m in result.methods.values() if m.records]
    if optim:
        for t in picked:
            series = {m.name: ([p[0] for p in m.records[t].history], [p[1] for p in m.records[t].history])
                      for m in optim if t < len(m.records) and m.records[t].history}
            report.line_plot(page.asset(f"loss_frame{t + 1}.png"), series, title=f"loss per iteration, frame {t + 1}",
                             xlabel="iteration (as the run records it)", ylabel="loss", logy=True)
            page.image(page.files[-1], f"loss per iteration of frame {t + 1}",
                       caption="multipass: the last pass of the frame" if any(m.name == "multipass" for m in optim)
                       else None)
    series = {}
    for m in result.methods.values():
        if m.records:
            series[m.name] = (list(range(1, len(m.records) + 1)),
                              [r.seconds + r.flow_seconds + r.io_seconds for r in m.records])
        else:
            series[m.name] = (list(range(1, len(m.frames) + 1)), [m.seconds_per_frame] * len(m.frames))
    report.line_plot(page.asset("time_per_frame.png"), series, title="time per frame", xlabel="frame",
                     ylabel="seconds")
    page.image(page.files[-1], "seconds per frame per method",
               caption="fast methods: the mean inference time per frame")

    page.heading("Frames")
    grid = [[result.source_frames[t], *[m.frames[t] for m in result.methods.values()]] for t in picked]
    report.grid_image(page.asset("frames.png"), grid, ["source", *result.methods], [f"frame {t + 1}" for t in picked])
    page.image(page.files[-1], "source and every method side by side", pixelated=True,
               caption="left to right: source, " + ", ".join(result.methods))
    _masks(page, result, picked)
    return page.write()


def _masks(page: report.Page, result: "CompareResult", picked: list[int]) -> None:
    """The coherent network's learned masks of the picked frames, beside the frames."""
    m = result.methods.get("coherent")
    if m is None:
        return
    from . import media
    from .fast.online import mask_name

    folder = result.out_dir / "coherent" / "masks"
    rows = [[result.source_frames[t], m.frames[t], media.load_image(folder / mask_name(t))]
            for t in picked if t > 0 and (folder / mask_name(t)).is_file()]
    if not rows:
        return
    page.heading("Learned masks (coherent)")
    report.grid_image(page.asset("masks.png"), rows, ["source", "coherent", "mask"],
                      [f"frame {t + 1}" for t in picked if t > 0 and (folder / mask_name(t)).is_file()])
    page.image(page.files[-1], "the coherent network's masks", pixelated=True,
               caption="white: the flow-warped features of the previous frame are reused; black: painted anew")


def _href(page: report.Page, target: Path) -> str:
    from urllib.parse import quote

    rel = Path(os.path.relpath(target, page.path.parent)).as_posix()
    return quote(rel + ("/" if Path(target).is_dir() else ""))


__all__ = ["write_compare_report"]
