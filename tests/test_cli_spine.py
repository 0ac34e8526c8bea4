"""The command line's settings options are generated from the settings fields (cli/spine.py)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Optional

import pytest
import typer
from typer.testing import CliRunner

from neuralpaint import settings
from neuralpaint.cli import spine
from neuralpaint.errors import InputError
from neuralpaint.settings import option, text
from neuralpaint.settings.spine import check


@dataclasses.dataclass(frozen=True)
class Toy:
    """A settings class as a new concern would declare it: one option() line per field."""

    PANEL: ClassVar[str] = "Toy"

    strength: float = option(0.5, "How strong, default {strength}.", nonneg=True)
    mode: str = option("a", "a or b.", choices=("a", "b"))
    steps: tuple[int, ...] = option((1, 2), "Frame offsets.", text=text.OFFSETS)
    smooth: bool = option(True, "Smooth it.")
    limit: Optional[int] = option(None, "A limit.", minimum=1)
    hidden: int = option(3, "API only.", cli=False)

    def __post_init__(self) -> None:
        check(self)


def _toy_app(received: list) -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @spine.command("toy", app=app)
    def toy(name: str, toy: Toy = spine.Fields(), loud: bool = typer.Option(False, "--loud")) -> None:
        received.append((name, toy, loud))

    @app.callback()
    def _root() -> None:
        pass

    return app


def test_a_field_becomes_an_option_with_its_flag_default_and_help():
    received: list = []
    app = _toy_app(received)
    command = typer.main.get_command(app).commands["toy"]
    opts = {p.name: p for p in command.params}
    assert set(opts) == {"name", "strength", "mode", "steps", "smooth", "limit", "loud"}  # not `hidden`
    assert opts["strength"].opts == ["--strength"] and opts["strength"].default == 0.5
    assert opts["strength"].help == "How strong, default 0.5."
    assert opts["smooth"].opts == ["--smooth"] and opts["smooth"].secondary_opts == ["--no-smooth"]
    assert opts["steps"].default == "1,2"
    help_text = CliRunner().invoke(app, ["toy", "--help"], terminal_width=200).output
    assert "--strength" in help_text and "How strong, default 0.5." in help_text and "Toy" in help_text


def test_the_command_receives_the_built_settings_object():
    received: list = []
    app = _toy_app(received)
    r = CliRunner().invoke(app, ["toy", "x", "--strength", "2", "--steps", "1,4", "--no-smooth", "--loud"])
    assert r.exit_code == 0, r.output
    assert received == [("x", Toy(strength=2.0, steps=(1, 4), smooth=False), True)]
    r = CliRunner().invoke(app, ["toy", "y"])
    assert received[-1] == ("y", Toy(), False)


def test_a_bad_value_is_the_settings_error():
    app = _toy_app([])
    r = CliRunner().invoke(app, ["toy", "x", "--mode", "c"])
    assert isinstance(r.exception, InputError) and "unknown mode 'c'; choose one of a, b" in str(r.exception)
    r = CliRunner().invoke(app, ["toy", "x", "--steps", "1,0"])
    assert isinstance(r.exception, InputError) and "--steps must be positive frame offsets" in str(r.exception)


@dataclasses.dataclass(frozen=True)
class Other:
    strength: float = option(1.0, "Clashes with Toy.strength.")


def test_two_fields_with_one_flag_in_a_command_are_refused():
    with pytest.raises(TypeError, match="--strength of Other clashes with Toy.strength"):
        @spine.command("clash", app=typer.Typer())
        def clash(toy: Toy = spine.Fields(), other: Other = spine.Fields()) -> None:
            pass


def test_fields_selects_and_names_unknown_fields():
    with pytest.raises(TypeError, match="Toy has no field 'strenght'"):
        spine.generate(Toy, spine.Fields(only=("strenght",)))
    assert [g.name for g, _ in spine.generate(Toy, spine.Fields(only=("mode",)))] == ["mode"]
    assert "mode" not in [g.name for g, _ in spine.generate(Toy, spine.Fields(exclude=("mode",)))]


COMMANDS = {
    "image": (settings.ImageSettings, settings.ModelSettings, settings.RuntimeSettings, settings.ProgressSettings),
    "video": (settings.ImageSettings, settings.VideoSettings, settings.ModelSettings, settings.RuntimeSettings,
              settings.ProgressSettings, settings.ChunkSettings),
    "train": (settings.TrainSettings,),
    # compare once lacked --lr, --init and --scales: it now offers every painting option
    "compare": (settings.CompareSettings, settings.ImageSettings, settings.ModelSettings, settings.RuntimeSettings),
    "evaluate": (settings.EvalSettings,),
}


# a clip's --iters is VideoSettings.later_iters: an image's cap is left off the clip commands
NOT_ON = {"video": {(settings.ImageSettings, "iters")}, "compare": {(settings.ImageSettings, "iters")}}


def test_a_clips_iters_caps_its_later_frames_not_an_images():
    from neuralpaint.cli import _register, app
    _register()
    for name in ("video", "compare"):
        command = typer.main.get_command(app).commands[name]
        iters = [p for p in command.params if "--iters" in p.opts]
        later = settings.spec(next(f for f in dataclasses.fields(settings.VideoSettings) if f.name == "later_iters"))
        assert len(iters) == 1 and iters[0].default == settings.default(settings.VideoSettings, "later_iters")
        assert iters[0].help == later.help
    image = typer.main.get_command(app).commands["image"]
    iters = [p for p in image.params if "--iters" in p.opts]
    assert len(iters) == 1 and iters[0].default == settings.default(settings.ImageSettings, "iters")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_line_field_is_an_option_of_its_commands(name):
    from neuralpaint.cli import _register, app
    _register()
    command = typer.main.get_command(app).commands[name]
    flags = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
    helps = {o: p.help for p in command.params for o in p.opts}
    for cls in COMMANDS[name]:
        for f in dataclasses.fields(cls):
            o = settings.spec(f)
            if not o.cli or (cls, f.name) in NOT_ON.get(name, ()):
                continue
            flag = o.flag_for(f.name, settings.spine.value_kind(cls, f.name).base).split("/")[0]
            assert flag in flags, f"{name} lacks {flag} ({cls.__name__}.{f.name})"
            assert helps[flag] == o.help.format_map(spine._Defaults(cls))


def test_fast_refuses_exactly_the_options_not_declared_fast():
    from neuralpaint.cli import _register
    _register()
    assert {"iters", "style_weight", "temporal_weight", "chunks", "print_every"} <= spine.NOT_WITH_FAST["video"]
    fast_ok = {"size", "device", "start", "end", "audio", "crf", "fps", "flow", "fast_blend"}
    assert not fast_ok & spine.NOT_WITH_FAST["video"]
    assert "size" not in spine.NOT_WITH_FAST["image"] and "iters" in spine.NOT_WITH_FAST["image"]


def test_temporal_weight_reaches_the_core_as_a_typed_field(cli, monkeypatch, tmp_path):
    """--temporal-weight -> VideoSettings.temporal_weight -> the options stylize_video splits."""
    from PIL import Image

    from conftest import textured
    import neuralpaint.video as video_module

    seen = {}

    def fake(input, styles, output, *, work_dir, restart, callback, **kw):
        seen["video"] = settings.split(kw, settings.ImageSettings, settings.VideoSettings, settings.ModelSettings,
                                       settings.RuntimeSettings)[1]
        raise InputError("stopped here")

    monkeypatch.setattr(video_module, "stylize_video", fake)
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(2):
        Image.fromarray(textured(16, 16, seed=i)).save(frames / f"f{i}.png")
    Image.fromarray(textured(16, 16, seed=9)).save(tmp_path / "s.png")
    r = cli("video", frames, tmp_path / "s.png", "-o", tmp_path / "o.gif", "--temporal-weight", "123.5", "-q")
    assert r.code == 2 and "stopped here" in r.err
    assert seen["video"].temporal_weight == 123.5
