import numpy as np
import onnxruntime as ort
import pytest
import torch

from synthmarks.models import MODEL_NAMES, PointsModule, build_model, export_onnx
from synthmarks.models.pipnet import PIPNetModel


def perturbed(name: str) -> torch.nn.Module:
    """A model whose zero/small-initialised heads and BN statistics are made non-trivial, so
    parity is tested on informative outputs."""
    model = build_model(name).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.8, 1.2)
    return model


def unambiguous(model: torch.nn.Module, out: dict[str, torch.Tensor]) -> np.ndarray:
    """[B, N] mask of points whose decoding does not hinge on a near-tie between two cells.

    A random network has maps whose top two values differ by less than 1e-5; there ORT and torch
    may pick different cells, which says nothing about the export. Such points (and for PIPNet
    every point they vote for through the neighbour merge) are left out of the comparison."""
    maps = out.get("heatmaps", out.get("score"))
    if maps is None:
        return np.ones(out["points"].shape[:2], dtype=bool)
    top2 = maps.flatten(2).topk(2, dim=-1).values
    tied = (top2[..., 0] - top2[..., 1]) < 1e-5 * top2[..., 0].abs().clamp_min(1.0)
    if isinstance(model, PIPNetModel):
        votes = tied.float().repeat_interleave(model.num_neighbors, dim=1) @ model.merge_t
        tied = tied | (votes > 0)
    return (~tied).numpy()


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_onnx_matches_torch(name, tmp_path):
    model = perturbed(name)
    path = tmp_path / f"{name}.onnx"
    export_onnx(model, str(path))
    x = torch.randn(3, 3, 128, 128)  # exported with batch 1: checks the dynamic batch axis
    with torch.no_grad():
        points, scores = PointsModule(model)(x)
        keep = unambiguous(model, model(x))
    assert keep.mean() > 0.2  # random deconv heads tie a lot; decoding is covered below too
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    onnx_points, onnx_scores = sess.run(None, {"image": x.numpy()})
    assert onnx_points.shape == (3, 68, 2) and onnx_scores.shape == (3, 68)
    np.testing.assert_allclose(onnx_points[keep], points.numpy()[keep], atol=1e-4, rtol=0)
    np.testing.assert_allclose(onnx_scores, scores.numpy(), atol=1e-4, rtol=0)


class DecodeOnly(torch.nn.Module):
    def __init__(self, model: torch.nn.Module, keys: list[str]) -> None:
        super().__init__()
        self.model, self.keys = model, keys

    def forward(self, *maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.decode(dict(zip(self.keys, maps, strict=True)))


@pytest.mark.parametrize("name", ["pipnet_mbv3s", "heatmap_shufflenet"])
def test_onnx_decoding_of_clear_outputs(name, tmp_path):
    """Decoding alone in ONNX, on encoded targets plus noise: every argmax is unambiguous."""
    model = build_model(name).eval()
    target = 0.1 + 0.8 * torch.rand(2, 68, 2)
    enc = model.encode(target)
    keys = list(enc)
    maps = [v + 0.01 * torch.randn_like(v) for v in enc.values()]
    path = tmp_path / "decode.onnx"
    torch.onnx.export(
        DecodeOnly(model, keys),
        tuple(maps),
        str(path),
        input_names=keys,
        opset_version=17,
        dynamo=False,
    )
    with torch.no_grad():
        points, scores = model.decode(dict(zip(keys, maps, strict=True)))
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    onnx_points, onnx_scores = sess.run(
        None, {k: m.numpy() for k, m in zip(keys, maps, strict=True)}
    )
    np.testing.assert_allclose(onnx_points, points.numpy(), atol=1e-5, rtol=0)
    np.testing.assert_allclose(onnx_scores, scores.numpy(), atol=1e-5, rtol=0)
    assert np.abs(onnx_points - target.numpy()).max() < 0.02
