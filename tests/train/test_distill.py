"""Distillation (``distill.teacher``): the student learns the teacher's points on its own crops, in
the share ``distill.weight``; teachers that cannot teach the student are refused in one line.

The teacher here is a freshly built regression model: its last layer starts at zero, so it
predicts its ``mean_shape`` buffer for every input, a shape we choose (the cartoon faces' mean
moved right by a tenth of the crop). A student taught only by it must move its points right; one
taught only by the labels must not. That pins the teacher's coordinates (normalised crop
coordinates of the student's crop) and which side ``weight`` counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from synthmarks.cli import main
from synthmarks.data import crop
from synthmarks.data.dataset import mean_target
from synthmarks.data.readers import load_dataset
from synthmarks.errors import SynthmarksError
from synthmarks.infer.runtime import to_model_input
from synthmarks.landmarks import bounding_box
from synthmarks.models import INPUT_MEAN, INPUT_STD, build_model
from synthmarks.models.checkpoint import load_model, save_checkpoint
from synthmarks.train.config import load_config
from synthmarks.train.trainer import train

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny.yaml"
SHIFT = 0.1  # the teacher's points: the faces' mean shape, this far right (crop widths)
STUDENT = [
    "model.name=regress_mbv3s",
    "model.kwargs={width_mult: 0.5}",
    "schedule.epochs=6",
    "optim.lr=0.004",
    "augment.flip_p=0.0",  # a flip would mirror the teacher's shift, not the face
]


def write_teacher(path: Path, faces: Path, crop_scale: float = 1.3, outputs=None) -> Path:
    """A teacher that answers every crop with the faces' mean shape moved right by SHIFT; built
    at 96 px, not the student's 64, so the resize to the teacher's input is on the path."""
    shape = mean_target(load_dataset(faces), 96, crop_scale, 68, 48) + [SHIFT, 0.0]
    if outputs and outputs.get("outline_jaw"):
        shape = np.concatenate([shape, shape[:17]])
    teacher = build_model("regress_mbv3s", 68, 96, outputs=outputs, mean_shape=shape)
    save_checkpoint(
        path, teacher, input_size=96, crop_scale=crop_scale, mean=INPUT_MEAN, std=INPUT_STD
    )
    return path


def mean_shift(run: Path, faces: Path) -> float:
    """The trained student's mean x offset from the labels on un-augmented crops of 16 of its
    faces, in crop widths."""
    model, meta = load_model(run / "best.pt")
    size, images, labels = meta["input_size"], [], []
    for s in load_dataset(faces)[:16]:
        m = crop.box_crop_matrix(bounding_box(s.points), size, meta["crop_scale"])
        images.append(crop.warp(s.load_image(), m, size))
        labels.append((crop.apply(m, s.points[:68]) + 0.5) / size)
    x = to_model_input(torch.from_numpy(np.stack(images)), INPUT_MEAN, INPUT_STD)
    with torch.no_grad():
        points, _ = model.predict(x)
    return float((points[..., 0].numpy() - np.stack(labels)[..., 0]).mean())


@pytest.mark.parametrize(
    "weight, outputs, moved",
    [
        (1.0, None, True),
        (0.0, None, False),
        # a teacher with more outputs teaches the points the student has: the first 68 are the
        # scheme in every layout (synthmarks.landmarks.OutputLayout)
        (1.0, {"outline_jaw": True, "pose": True}, True),
    ],
)
def test_the_student_learns_the_teachers_points_in_the_share_weight(
    weight, outputs, moved, fake_faces, tmp_path, overrides_for
):
    teacher = write_teacher(tmp_path / "teacher.pt", fake_faces, outputs=outputs)
    sets = [*overrides_for(fake_faces, tmp_path), *STUDENT]
    cfg = load_config(TINY, [*sets, f"distill.teacher={teacher}", f"distill.weight={weight}"])
    torch.manual_seed(0)
    train(cfg)
    shift = mean_shift(tmp_path / "runs" / "tiny", fake_faces)
    print(f"weight {weight}: mean x shift {shift:.3f}")
    if moved:
        assert 0.5 * SHIFT < shift < 1.5 * SHIFT, shift  # moved, in crop units
    else:
        assert abs(shift) < 0.3 * SHIFT, shift


def test_a_teacher_that_cannot_teach_the_student_is_refused(
    fake_faces, tmp_path, overrides_for, capsys
):
    sets = [*overrides_for(fake_faces, tmp_path), *STUDENT]
    other_scale = write_teacher(tmp_path / "scale.pt", fake_faces, crop_scale=1.6)
    plain = write_teacher(tmp_path / "plain.pt", fake_faces)
    with pytest.raises(SynthmarksError, match=r"crops of scale 1\.6, the student's are 1\.3"):
        train(load_config(TINY, [*sets, f"distill.teacher={other_scale}"]))
    outline = [f"distill.teacher={plain}", "model.outline_jaw=true", "log.out_dir=" + str(tmp_path)]
    with pytest.raises(SynthmarksError, match="predicts 68 points; the student learns 68 and the"):
        train(load_config(TINY, [*sets, *outline]))
    code = main(
        ["train", "--config", str(TINY), *[f"--set={s}" for s in sets], "--set=distill.weight=2"]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and "distill.weight: must be in [0, 1]" in err and len(err.splitlines()) == 1
    missing = f"--set=distill.teacher={tmp_path / 'none.pt'}"
    code = main(["train", "--config", str(TINY), *[f"--set={s}" for s in sets], missing])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "distill.teacher" in err and len(err.splitlines()) == 1
