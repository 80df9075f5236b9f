"""Outline-jaw and pose outputs (synthmarks.landmarks.OutputLayout) in the model zoo."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synthmarks.models import build_model
from synthmarks.models.checkpoint import grow_outputs

OUTPUTS = {"outline_jaw": True, "pose": True}


@pytest.mark.parametrize("name", ["pipnet_mbv3s", "regress_mbv3s"])
def test_per_point_heads_learn_outline_and_pose(name):
    torch.manual_seed(0)
    kw = {"stride": 32} if name.startswith("pipnet") else {}
    model = build_model(name, 68, 64, outputs=OUTPUTS, width_mult=0.5, **kw).eval()
    assert model.layout.num_points == 85 and model.config["outputs"]["pose"]
    x = torch.randn(2, 3, 64, 64)
    out = model(x)
    assert out["pose"].shape == (2, 3)
    points, scores, pose = model.predict_all(x)
    assert points.shape == (2, 85, 2) and scores.shape == (2, 85)
    assert torch.equal(pose, torch.zeros(2, 3)), "the pose head starts at a frontal pose"
    torch.testing.assert_close(points, model.decode(out)[0])
    rebuilt = build_model(**model.config)
    assert rebuilt.layout == model.layout


def test_plain_config_is_unchanged():
    model = build_model("pipnet_mbv3s", 68, 64, width_mult=0.5, stride=32)
    assert "outputs" not in model.config and model.pose_head is None
    assert model.predict_all(torch.zeros(1, 3, 64, 64))[2] is None


@pytest.mark.parametrize("name", ["heatmap_shufflenet", "hourglass2"])
def test_heatmap_heads_refuse_in_one_line(name):
    with pytest.raises(ValueError, match="learns neither an outline jaw nor a pose") as info:
        build_model(name, 68, 64, outputs={"pose": True})
    assert "\n" not in str(info.value)


def test_grow_outputs_keeps_the_old_points_and_adds_a_frontal_pose():
    torch.manual_seed(0)
    old = build_model("regress_mbv3s", 68, 64, width_mult=0.5).eval()
    with torch.no_grad():  # a trained-looking last layer, so copied rows are checked
        old.fc[-1].weight.normal_(0, 0.01)
        old.fc[-1].bias.normal_(0, 0.01)
    new, note = grow_outputs(old, OUTPUTS)
    new.eval()
    assert "pose head new" in note and "\n" not in note
    x = torch.randn(2, 3, 64, 64)
    p_old, _ = old.predict(x)
    p_new, _, pose = new.predict_all(x)
    torch.testing.assert_close(p_new[:, :68], p_old)
    torch.testing.assert_close(p_new[:, 68:], p_old[:, :17])  # outline starts as the x-ray jaw
    assert torch.equal(pose, torch.zeros(2, 3))


def test_onnx_export_has_a_pose_output():
    ort = pytest.importorskip("onnxruntime")
    import io

    from synthmarks.models import export_onnx

    torch.manual_seed(0)
    model = build_model("pipnet_mbv3s", 68, 64, outputs=OUTPUTS, width_mult=0.5, stride=32)
    with torch.no_grad():
        model.pose_head.out.weight.normal_(0, 0.1)
    model.eval()
    buf = io.BytesIO()
    export_onnx(model, buf)
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    assert [o.name for o in sess.get_outputs()] == ["points", "scores", "pose"]
    x = torch.randn(2, 3, 64, 64)
    points, _, pose = sess.run(None, {"image": x.numpy()})
    ref_points, _, ref_pose = model.predict_all(x)
    np.testing.assert_allclose(points, ref_points.detach().numpy(), atol=1e-4)
    np.testing.assert_allclose(pose, ref_pose.detach().numpy(), atol=1e-4)
