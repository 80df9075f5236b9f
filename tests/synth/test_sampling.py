"""Generator settings: ``synthmarks synth --set KEY=VALUE`` overrides (no rendering needed)."""

from __future__ import annotations

import numpy as np
import pytest

from synthmarks.errors import SynthmarksError
from synthmarks.synth.sampling import SynthConfig, sample_params, sample_rng


def test_overrides_change_one_setting_and_reach_the_samples():
    cfg = SynthConfig(look="v1").with_overrides(["p_occluder=0", "face_scale=[0.3, 0.5]"])
    assert cfg.p_occluder == 0 and cfg.face_scale == (0.3, 0.5)
    assert cfg.p_hair == SynthConfig(look="v1").p_hair  # the rest untouched
    names = [f"e{i}" for i in range(53)]

    def occluders(c: SynthConfig) -> list[int]:
        return [sample_params(sample_rng(1, i), c, names)["occluders"]["count"] for i in range(50)]

    assert not any(occluders(cfg)) and any(occluders(SynthConfig(look="v1")))


@pytest.mark.parametrize(
    "item, match",
    [
        ("p_occluder=1.5", "probability"),
        ("nothing=1", "nothing.*not in 'SynthConfig'"),
        ("p_hair", "KEY=VALUE"),
        ("size=big", "size.*Integer"),
    ],
)
def test_bad_overrides_are_one_line_errors(item, match):
    with pytest.raises(SynthmarksError, match=match):
        SynthConfig(look="v1").with_overrides([item])


def test_overrides_round_trip_through_the_run_record():
    cfg = SynthConfig(look="v1").with_overrides(["p_photo_background=0"])
    assert SynthConfig.from_json(cfg.to_json()) == cfg
    assert np.isclose(cfg.to_json()["p_photo_background"], 0.0)
