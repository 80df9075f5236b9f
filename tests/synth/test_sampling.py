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


def test_camera_distance_sets_the_focal_length_and_old_runs_keep_theirs():
    """Faces are photographed from 35 cm to 3 m (the focal length frames them); a run recorded
    before the key existed still draws its 28-140 mm focal length, and either way the draw takes
    one number from the stream, so every other parameter of a face is unchanged."""
    names = [f"e{i}" for i in range(53)]
    new = SynthConfig(look="v1")
    old_record = new.to_json()
    del old_record["camera_distance_cm"]
    old = SynthConfig.from_json(old_record)
    assert old.camera_distance_cm is None
    for i in range(200):
        p = sample_params(sample_rng(5, i), new, names)
        q = sample_params(sample_rng(5, i), old, names)
        d = p["camera_distance_cm"]
        assert 35.0 <= d <= 300.0
        assert p["focal_35mm"] == pytest.approx(36.0 * p["face_scale"] * d / 14.7, rel=1e-4)
        assert 28.0 <= q["focal_35mm"] <= 140.0 and "camera_distance_cm" not in q
        camera = ("camera_distance_cm", "focal_35mm")
        assert {k: v for k, v in p.items() if k not in camera} == {
            k: v for k, v in q.items() if k not in camera
        }


def test_camera_distance_must_be_a_range_in_cm():
    with pytest.raises(SynthmarksError, match="camera_distance_cm"):
        SynthConfig(look="v1").with_overrides(["camera_distance_cm=[300, 35]"])
    assert (
        SynthConfig(look="v1").with_overrides(["camera_distance_cm=null"]).camera_distance_cm
        is None
    )


def test_parted_lips_open_mouths_and_change_nothing_else():
    """p_parted_lips is drawn after every other choice: the same faces, some with lips apart."""
    mouth = {"jawOpen", "mouthUpperUp_L", "mouthUpperUp_R", "mouthLowerDown_L", "mouthLowerDown_R"}
    mouth |= {f"{s}_{side}" for s in ("mouthSmile", "cheekSquint") for side in "LR"}
    names = sorted(mouth) + [f"e{i}" for i in range(53 - len(mouth))]
    plain = SynthConfig(look="v1", p_parted_lips=0.0)
    parted = SynthConfig(look="v1", p_parted_lips=0.5)
    changed = 0
    for i in range(60):
        a = sample_params(sample_rng(3, i), plain, names)
        b = sample_params(sample_rng(3, i), parted, names)
        ea, eb = a.pop("expression"), b.pop("expression")
        assert a == b  # identity, pose, camera, look: all the same draws
        assert {k: v for k, v in ea.items() if k not in mouth} == {
            k: v for k, v in eb.items() if k not in mouth
        }
        assert all(eb.get(k, 0) >= ea.get(k, 0) for k in mouth)  # only ever opens further
        if eb != ea:
            changed += 1
            assert 0.03 <= eb["jawOpen"] and eb["jawOpen"] >= ea.get("jawOpen", 0)
    assert 15 <= changed <= 45  # about half of 60
    # a run recorded before the setting existed drew no parted lips, whatever the default becomes
    old = {k: v for k, v in parted.to_json().items() if k != "p_parted_lips"}
    assert SynthConfig.from_json(old).p_parted_lips == 0.0


def test_the_key_light_has_a_width_drawn_last():
    """key_radius_deg (look revision 6) is the last draw of a v2 face: the same faces with the
    same everything, each key light a log-uniform width; (0, 0) is revision 5's point light, and
    a run recorded before the setting existed keeps it."""
    catalogue = {"skins": ["s"], "hair": {"h": [0.2, 0.1, 0.05]}, "eyebrows": ["b"]}
    catalogue |= {"eyelashes": ["l"], "irises": ["i"], "hdri": ["e"]}
    names = [f"e{i}" for i in range(53)]
    point, wide = SynthConfig(key_radius_deg=(0.0, 0.0)), SynthConfig(key_radius_deg=(1.0, 16.0))
    radii = []
    for i in range(200):
        a = sample_params(sample_rng(4, i), point, names, catalogue)
        b = sample_params(sample_rng(4, i), wide, names, catalogue)
        assert a["v2"].pop("key_radius_deg") == 0.0
        radii.append(b["v2"].pop("key_radius_deg"))
        assert a == b
    assert 1.0 <= min(radii) and max(radii) <= 16.0
    assert 3.0 < np.median(radii) < 5.5  # log-uniform: the median is the geometric mean, 4
    old = {k: v for k, v in wide.to_json().items() if k != "key_radius_deg"}
    assert SynthConfig.from_json(old).key_radius_deg == (0.0, 0.0)
    for bad in ("key_radius_deg=[0, 5]", "key_radius_deg=[5, 2]"):
        with pytest.raises(SynthmarksError, match="key_radius_deg"):
            SynthConfig().with_overrides([bad])


@pytest.mark.parametrize(
    "field, default, before",
    [
        ("xray_jaw", "3dmm", "mesh"),
        ("outline_jaw", "even", "lines"),
        ("lip_points", "aligned", "mesh"),
    ],
)
def test_label_definitions_are_label_settings_and_draw_nothing(field, default, before):
    """The x-ray jaw's depth, the outline jaw and the lip points move labels only: the same
    faces drawn either way, the setting carried in each face's parameters; runs recorded before
    a setting existed read as the definition they were made with."""
    names = [f"e{i}" for i in range(53)]
    new, old_cfg = SynthConfig(look="v1"), SynthConfig(look="v1", **{field: before})
    assert getattr(new, field) == default
    for i in range(20):
        a = sample_params(sample_rng(5, i), new, names)
        b = sample_params(sample_rng(5, i), old_cfg, names)
        assert (a.pop(field), b.pop(field)) == (default, before)
        assert a == b
    old = {k: v for k, v in new.to_json().items() if k != field}
    assert getattr(SynthConfig.from_json(old), field) == before
    with pytest.raises(SynthmarksError, match=field):
        SynthConfig().with_overrides([f"{field}=bfm"])
