"""Head-pose conventions: AFLW2000-3D's (pitch, yaw, roll), the generator's, and how the
training augmentations change them.

Everything here works in the generator's camera frame (x right, y up, z towards the viewer;
image y points down). Angles are degrees unless a name says radians.

AFLW2000-3D's ``Pose_Para`` (pitch, yaw, roll) is the rotation ``Rx(-pitch) @ Ry(-yaw) @
Rz(-roll)`` of a frontal head (positive pitch looks up, positive yaw turns the face towards image
left, positive roll turns it clockwise in the picture). Fitting a 3-D mean face to the 3-D points
of the dev faces (scripts/verify_pose_convention.py) picks this order and these signs over the
generator's order (``Rz @ Ry @ Rx``) and over flipped signs. The generator samples its angles
with the same signs but composes them in its own order, so a synthetic face's ``pose_deg`` is
converted with :func:`generator_to_aflw` before it becomes a training target: the two differ by
several degrees on turned heads, as much as the error a pose model is judged by.
"""

from __future__ import annotations

import numpy as np


def rx(deg: float) -> np.ndarray:
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def ry(deg: float) -> np.ndarray:
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rz(deg: float) -> np.ndarray:
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def aflw_matrix(pose_deg: np.ndarray | tuple[float, float, float]) -> np.ndarray:
    """Rotation (3, 3) of AFLW2000-3D angles (pitch, yaw, roll): ``Rx(-p) Ry(-y) Rz(-r)``."""
    p, y, r = (float(v) for v in pose_deg)
    return rx(-p) @ ry(-y) @ rz(-r)


def aflw_angles(rot: np.ndarray) -> np.ndarray:
    """(pitch, yaw, roll) degrees of a rotation, inverse of :func:`aflw_matrix` (|yaw| < 90)."""
    b = np.arcsin(np.clip(rot[0, 2], -1.0, 1.0))
    a = np.arctan2(-rot[1, 2], rot[2, 2])
    c = np.arctan2(-rot[0, 1], rot[0, 0])
    return -np.degrees(np.array([a, b, c]))


def generator_matrix(pose_deg: np.ndarray | tuple[float, float, float]) -> np.ndarray:
    """The generator's head rotation (``synth.scene.rotation``): ``Rz(-r) Ry(-y) Rx(-p)``."""
    p, y, r = (float(v) for v in pose_deg)
    return rz(-r) @ ry(-y) @ rx(-p)


def generator_to_aflw(pose_deg: np.ndarray | tuple[float, float, float]) -> np.ndarray:
    """A synthetic face's ``pose_deg`` as AFLW2000-3D angles of the same head rotation."""
    return aflw_angles(generator_matrix(pose_deg)).astype(np.float32)


def wrap(deg: np.ndarray | float) -> np.ndarray:
    """Angles in degrees brought into [-180, 180)."""
    return (np.asarray(deg, np.float64) + 180.0) % 360.0 - 180.0


def flip_pose(pose_deg: np.ndarray) -> np.ndarray:
    """The pose after mirroring the image left-right: pitch stays, yaw and roll change sign
    (with F = diag(-1, 1, 1): ``F Rx(a) F = Rx(a)``, ``F Ry(b) F = Ry(-b)``,
    ``F Rz(c) F = Rz(-c)``). Any (..., 3) array, in degrees or radians alike."""
    out = np.array(pose_deg, dtype=np.float32)
    out[..., 1:] *= -1.0
    return out


def rotate_pose(pose_deg: np.ndarray, angle_deg: float) -> np.ndarray:
    """The pose after rotating the picture ``angle_deg`` clockwise (the camera rolls, the head
    does not move): ``Rz(-angle) R``, decomposed again, so a turned head's pitch and yaw trade
    places as they should instead of only the roll shifting."""
    rot = rz(-angle_deg) @ aflw_matrix(pose_deg)
    return aflw_angles(rot).astype(np.float32)


def matrix_roll(matrix: np.ndarray) -> float:
    """Clockwise on-screen rotation (degrees) of a 2x3 image-to-crop pixel matrix (y down)."""
    return float(np.degrees(np.arctan2(matrix[1, 0], matrix[0, 0])))


def project(points3d: np.ndarray, pose_deg: np.ndarray) -> np.ndarray:
    """Orthographic image projection (x right, y down) of object points (x right, y up, z out of
    the face) rotated by AFLW angles: what the tests compare augmentations against."""
    cam = np.asarray(points3d, dtype=np.float64) @ aflw_matrix(pose_deg).T
    return np.stack([cam[:, 0], -cam[:, 1]], axis=1)
