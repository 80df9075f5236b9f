"""The generator's pose signs against its own projected landmarks, and its angles read as
AFLW2000-3D's: a synthetic face's target pose means what the dev set's Pose_Para means."""

from __future__ import annotations

import numpy as np
import pytest

from synthmarks import pose


@pytest.fixture(scope="module")
def head(face_model) -> np.ndarray:
    """The face model's 68 landmark vertices in object space (x right, y up, z out), centred."""
    from synthmarks.synth.facemodel import load_face_model

    model = load_face_model(face_model)
    pts = model.neutral[model.landmarks][:68].astype(np.float64)
    return pts - pts.mean(0)


def picture(head: np.ndarray, generator_pose: tuple[float, float, float]) -> np.ndarray:
    """Image points (y down) of the head under the renderer's own rotation."""
    from synthmarks.synth.scene import rotation

    cam = head @ rotation(*generator_pose).T
    return np.stack([cam[:, 0], -cam[:, 1]], axis=1)


def test_positive_yaw_turns_the_face_to_image_left(head):
    p = picture(head, (0.0, 30.0, 0.0))
    jaw_mid = (p[0, 0] + p[16, 0]) / 2
    assert p[30, 0] < jaw_mid - 1.0  # nose tip left of the jaw's middle
    q = picture(head, (0.0, -30.0, 0.0))
    assert q[30, 0] > (q[0, 0] + q[16, 0]) / 2 + 1.0


def test_positive_roll_is_clockwise_and_positive_pitch_looks_up(head):
    p = picture(head, (0.0, 0.0, 20.0))
    right_eye, left_eye = p[36:42].mean(0), p[42:48].mean(0)  # image left, image right
    assert left_eye[1] > right_eye[1] + 1.0  # the image-right eye drops: clockwise
    up = picture(head, (20.0, 0.0, 0.0))
    level = picture(head, (0.0, 0.0, 0.0))
    # looking up: the nose tip, in front of the head's centre, rises in the picture (y down)
    assert up[30, 1] < level[30, 1] - 0.3


def test_generator_pose_read_as_aflw_draws_the_same_picture(head):
    """The reader's conversion: the AFLW rotation of the converted angles projects the head
    exactly where the renderer put it; the raw angles read as AFLW's would not."""
    for g in [(15.0, 50.0, -20.0), (-25.0, -40.0, 30.0)]:
        rendered = picture(head, g)
        converted = pose.project(head, pose.generator_to_aflw(g))
        raw = pose.project(head, g)
        assert np.abs(rendered - converted).max() < 1e-4
        assert np.abs(rendered - raw).max() > 0.5
