import pytest

from neuralpaint import settings
from neuralpaint.errors import InputError
from neuralpaint.settings import ImageSettings, ModelSettings, RuntimeSettings, VideoSettings


@pytest.mark.parametrize("kwargs, message", [
    ({"size": 0}, "size must be >= 16, got 0"),
    ({"iters": 0}, "iters must be >= 1, got 0"),
    ({"optimizer": "sgd"}, "unknown optimizer 'sgd'"),
    ({"style_weight": -1.0}, "style-weight must be >= 0, got -1.0"),
    ({"content_weight": float("nan")}, "content-weight must be a finite number, got nan"),
    ({"tv_weight": float("inf")}, "tv-weight must be a finite number, got inf"),
    ({"init": "zeros"}, "unknown init 'zeros'"),
    ({"scales": 5, "size": 64}, "--scales 5"),
    ({"style_blend": (0.0, 0.0)}, "must not all be 0"),
])
def test_image_settings_reject_bad_values_by_name(kwargs, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ImageSettings(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"offsets": (1, 0)}, "offsets must be positive integers, got 0 in 1,0"),
    ({"offsets": (1, -2)}, "got -2"),
    ({"offsets": (1, 1)}, "must not repeat, got 1,1"),
    ({"flow": "magic"}, "unknown flow method 'magic'"),
    ({"passes": 0}, "passes must be >= 1"),
    ({"start": 5, "end": 2}, "--end 2 is before --start 5"),
])
def test_video_settings_reject_bad_values_by_name(kwargs, message):
    with pytest.raises(InputError, match=message):
        VideoSettings(**kwargs)


def test_runtime_and_model_settings_reject_unknowns():
    with pytest.raises(InputError, match="unknown device 'tpu'"):
        RuntimeSettings(device="tpu")
    with pytest.raises(InputError, match="unknown pooling 'min'"):
        ModelSettings(pooling="min")
    with pytest.raises(InputError, match="unknown precision 'fp8'"):
        RuntimeSettings(precision="fp8")


def test_split_routes_options_and_rejects_unknown_ones():
    img, model = settings.split({"size": 64, "weights": "random"}, ImageSettings, ModelSettings)
    assert img.size == 64 and model.weights == "random" and img.iters == settings.default(ImageSettings, "iters")
    with pytest.raises(InputError, match="unknown option 'colour'"):
        settings.split({"colour": 1}, ImageSettings, ModelSettings)


def test_temporal_offsets_follow_the_switches():
    assert VideoSettings().temporal_offsets == (1,)
    assert VideoSettings(long_term=True, offsets=(4, 1, 2)).temporal_offsets == (1, 2, 4)
    assert VideoSettings(short_term=False).temporal_offsets == ()
    assert VideoSettings(passes=15).first_temporal_pass == 8


# -- the spine: one option() line per field -----------------------------------------------------

ALL_CLASSES = (settings.ImageSettings, settings.VideoSettings, settings.ModelSettings, settings.RuntimeSettings,
               settings.ProgressSettings, settings.ChunkSettings, settings.TrainSettings, settings.FastSettings,
               settings.EvalSettings, settings.CompareSettings, settings.ReportSettings,
               settings.FlowExportSettings)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_every_field_is_declared_with_help(cls):
    import dataclasses
    for f in dataclasses.fields(cls):
        o = f.metadata.get("option")
        assert isinstance(o, settings.Option), f"{cls.__name__}.{f.name} is not declared with option()"
        assert o.help.strip(), f"{cls.__name__}.{f.name} has no help text"


@pytest.mark.parametrize("cls, kwargs, message", [
    (settings.ChunkSettings, {"chunks": 0}, "--chunks must be >= 1, got 0"),
    (settings.ChunkSettings, {"executor": "slurm"}, "unknown executor 'slurm'; choose one of local, ray"),
    (settings.FastSettings, {"blend_at": "middle"}, "unknown blend-at 'middle'"),
    (settings.TrainSettings, {"style_layers": ("relu1_2", "relu9_9")}, "unknown style layer 'relu9_9'"),
    (settings.TrainSettings, {"noise_weight": -1.0}, "noise-weight must be >= 0, got -1.0"),
    (settings.VideoSettings, {"temporal_weight": float("nan")}, "temporal-weight must be a finite number, got nan"),
    (settings.VideoSettings, {"crf": 64}, "crf must be <= 63, got 64"),
    (settings.ImageSettings, {"seed": 2**64}, "seed must be <= 18446744073709551615"),
    (settings.CompareSettings, {"eval_flow": "magic"}, "unknown flow method 'magic'"),
    (settings.ProgressSettings, {"preview_seconds": 0.0}, "preview_seconds must be > 0, got 0.0"),
])
def test_declared_checks_name_the_value(cls, kwargs, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cls(**kwargs)


def test_an_unset_optional_field_is_not_checked():
    assert VideoSettings(crf=None, start=None).crf is None
    assert ImageSettings(lr=None).step_size == settings.default(ImageSettings, "lbfgs_lr")
    with pytest.raises(InputError, match="lr must be > 0, got 0.0"):
        ImageSettings(lr=0.0)


def test_as_options_goes_back_through_split_to_the_same_objects():
    objs = (ImageSettings(size=96, style_layers=("relu1_1",), style_blend=(0.7, 0.3)),
            VideoSettings(temporal_weight=7.0, offsets=(1, 8)), ModelSettings(weights="random"),
            RuntimeSettings(device="cpu"))
    back = settings.split(settings.as_options(*objs), ImageSettings, VideoSettings, ModelSettings, RuntimeSettings)
    assert back == objs


def test_changed_names_only_what_differs_from_the_defaults():
    assert settings.changed(ImageSettings(), VideoSettings()) == {}
    assert settings.changed(ImageSettings(iters=7), VideoSettings(long_term=True)) == {"iters": 7, "long_term": True}


def test_kinds_come_from_the_annotations():
    from neuralpaint.settings.spine import Kind, value_kind
    assert value_kind(ImageSettings, "style_blend") == Kind(float, many=True, optional=True)
    assert value_kind(ImageSettings, "iters") == Kind(int, many=False, optional=False)
    assert value_kind(VideoSettings, "fps") == Kind(float, many=False, optional=True)
    assert value_kind(VideoSettings, "long_term") == Kind(bool, many=False, optional=False)


def test_text_forms_parse_the_command_line_and_name_the_flag():
    from neuralpaint.settings import text
    assert text.OFFSETS.parse(" 1, 2,4", "--offsets") == (1, 2, 4)
    assert text.OFFSETS.show((1, 2, 4)) == "1,2,4"
    assert text.NAMES.parse("relu1_1, relu2_1", "--style-layers") == ("relu1_1", "relu2_1")
    assert text.NUMBERS.parse("0.7,0.3", "--style-blend") == (0.7, 0.3)
    assert text.SIZE.parse("300", "--size") == {"size": 300, "upscale": True}
    assert text.SIZE.parse("source", "--size") == {"size": settings.MAX_SIZE, "upscale": False}
    assert text.FPS.parse("30000/1001", "--fps") == pytest.approx(29.97002997)
    with pytest.raises(InputError, match=r"--eval-offsets must not repeat an offset, got '1,1'"):
        text.OFFSETS.parse("1,1", "--eval-offsets")
    with pytest.raises(InputError, match=r"--style-blend needs comma-separated numbers, got 'a'"):
        text.NUMBERS.parse("a", "--style-blend")
    with pytest.raises(InputError, match=r"Invalid value for '--size': give a number of pixels or 'source' "
                                         r"\(got 'big'\)"):
        text.SIZE.parse("big", "--size")
    with pytest.raises(InputError, match=r"--fps must be above 0 and at most 1000, got '0'"):
        text.FPS.parse("0", "--fps")
