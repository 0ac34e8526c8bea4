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
