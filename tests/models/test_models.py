import numpy as np
import pytest
import torch

from synthmarks.models import (
    DEFAULT_MODEL,
    MODEL_NAMES,
    LandmarkModel,
    PointsModule,
    build_model,
    model_info,
)
from synthmarks.models.heatmap import decode_heatmaps
from synthmarks.models.losses import gaussian_heatmaps
from synthmarks.models.mean_shape import DEFAULT_MEAN_SHAPE_68

EXPECTED = {
    "regress_mbv3s",
    "regress_mbv3l",
    "regress_resnet50",
    "heatmap_shufflenet",
    "hourglass2",
    "pipnet_mbv3s",
    "pipnet_mbv3l",
    "pipnet_shufflenet",
    "pipnet_resnet18",
}
#: comparison architectures kept at their published size, over the mission's 15 MB limit
OVER_BUDGET = {"regress_resnet50"}


def random_points(b: int, n: int = 68, margin: float = 0.1) -> torch.Tensor:
    return margin + (1 - 2 * margin) * torch.rand(b, n, 2)


def test_names_and_default():
    assert set(MODEL_NAMES) == EXPECTED
    assert DEFAULT_MODEL == "pipnet_mbv3s"
    with pytest.raises(ValueError):
        build_model("nope")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shapes_size_and_config(name):
    model = build_model(name)
    assert isinstance(model, LandmarkModel)
    info = model_info(model, 128)
    assert (info["size_mb"] > 15.0) == (name in OVER_BUDGET)
    assert info["flops"] == 2 * info["macs"] > 0
    model.eval()
    with torch.no_grad():
        points, scores = model.decode(model(torch.randn(2, 3, 128, 128)))
    assert points.shape == (2, 68, 2) and scores.shape == (2, 68)
    assert torch.all((scores >= 0) & (scores <= 1))
    again = build_model(**model.config)
    again.load_state_dict(model.state_dict())  # same architecture, same buffers
    assert again.config == model.config


def test_resnet50_is_the_standard_layout():
    """The zoo's ResNet-50 is the one papers mean: 3-4-6-3 bottlenecks, 256-512-1024-2048
    channels, 23,508,032 trunk parameters (the usual ResNet-50 minus its 1000-class layer)."""
    from synthmarks.models.backbones import ResNet50
    from synthmarks.models.backbones.resnet import Bottleneck

    trunk = ResNet50()
    assert sum(p.numel() for p in trunk.parameters()) == 23_508_032
    blocks = [m for m in trunk.features if isinstance(m, Bottleneck)]
    widths = [b.body[2][0].out_channels for b in blocks]
    stages = [widths.count(w) for w in (256, 512, 1024, 2048)]
    assert stages == [3, 4, 6, 3] and len(blocks) == 16
    assert (trunk.out_channels, trunk.stride) == (2048, 32)
    with torch.no_grad():
        assert trunk(torch.randn(1, 3, 128, 128)).shape == (1, 2048, 4, 4)
        assert ResNet50(output_stride=16)(torch.randn(1, 3, 128, 128)).shape == (1, 2048, 8, 8)
    with pytest.raises(ValueError, match="output_stride"):
        ResNet50(output_stride=8)

    model = build_model("regress_resnet50").eval()
    head = sum(p.numel() for p in model.parameters()) - 23_508_032
    assert head == 2048 * 136 + 136  # pooled features -> one linear layer, no extra bottleneck
    with torch.no_grad():
        points, scores = model.decode(model(torch.randn(2, 3, 128, 128)))
    assert points.shape == (2, 68, 2) and torch.all(scores == 1)
    # zero-initialised last layer: an untrained model answers the mean shape
    assert torch.allclose(points, model.mean_shape.expand(2, 68, 2))


def test_default_is_small():
    assert model_info(build_model(DEFAULT_MODEL))["size_mb"] < 3.0


@pytest.mark.parametrize("name", ["pipnet_mbv3s", "hourglass2", "regress_mbv3s"])
def test_input_256(name):
    model = build_model(name, input_size=256).eval()
    with torch.no_grad():
        points, _ = PointsModule(model)(torch.randn(1, 3, 256, 256))
    assert points.shape == (1, 68, 2)


def test_pipnet_stride_32_grid():
    model = build_model("pipnet_mbv3s", stride=32)
    assert model.grid == 4
    assert model(torch.randn(1, 3, 128, 128))["score"].shape == (1, 68, 4, 4)


@pytest.mark.parametrize(
    "name", ["pipnet_mbv3s", "pipnet_resnet18", "hourglass2", "heatmap_shufflenet", "regress_mbv3s"]
)
def test_perfect_outputs_decode_to_targets(name):
    model = build_model(name)
    points = random_points(3)
    decoded, scores = model.decode(model.encode(points))
    assert torch.allclose(decoded, points, atol=1e-4)
    if name.startswith("pipnet"):
        assert torch.all(scores > 0.99)


def test_pipnet_bce_round_trip_and_custom_mean_shape():
    shape = DEFAULT_MEAN_SHAPE_68 + np.random.default_rng(0).normal(0, 0.01, (68, 2))
    model = build_model("pipnet_mbv3s", score_loss="bce", mean_shape=shape, num_neighbors=6)
    assert isinstance(model.config["mean_shape"], list)
    points = random_points(2)
    decoded, scores = model.decode(model.encode(points))
    assert torch.allclose(decoded, points, atol=1e-5)
    assert torch.all(scores > 0.99)
    build_model(**model.config).load_state_dict(model.state_dict())


def test_pipnet_nrm_merge_averages_reverse_neighbours():
    model = build_model("pipnet_mbv3s")
    # each landmark is predicted by itself plus every landmark listing it as a neighbour
    counts = 1 + np.bincount(model.neighbours.numpy().ravel(), minlength=68)
    assert np.allclose(model.self_weight.numpy(), 1 / counts)
    assert np.allclose(model.merge_t.numpy().sum(0) + model.self_weight.numpy(), 1.0)
    # a neighbour offset that is wrong by 1 cell moves its target by 1 / (G * count)
    points = random_points(1)
    out = model.encode(points)
    i, j = 0, int(model.neighbours[0, 0])
    out["nb_x"][0, i * model.num_neighbors] += 1.0
    decoded, _ = model.decode(out)
    shift = decoded[0, :, 0] - points[0, :, 0]
    assert shift[j].item() == pytest.approx(1 / (model.grid * counts[j]), abs=1e-5)
    shift[j] = 0
    assert torch.allclose(shift, torch.zeros(68), atol=1e-5)


def test_pipnet_decodes_a_hand_built_map():
    """Written by hand, not by encode(): landmark i's score peaks at column c, row r (flat cell
    r * G + c) with offsets (ox, oy) read at that cell only, giving ((c + ox) / G, (r + oy) / G);
    neighbour predictions made at that cell average in with weight 1 / (1 + reverse count)."""
    model = build_model("pipnet_mbv3s", num_neighbors=4)
    g, n, k = model.grid, 68, 4
    rng = np.random.default_rng(0)
    col, row = rng.integers(0, g, n), rng.integers(0, g, n)
    own = (np.stack([col, row], 1) + rng.uniform(0, 1, (n, 2))) / g
    nbrs = model.neighbours.numpy()
    delta = np.array([0.01, -0.02])  # every neighbour prediction is off by this much
    maps = {
        c: torch.full((1, ch, g, g), 5.0)
        for c, ch in [("offset_x", n), ("offset_y", n), ("nb_x", n * k), ("nb_y", n * k)]
    }
    score = torch.full((1, n, g, g), 0.3)
    for i in range(n):
        r, c = row[i], col[i]
        score[0, i, r, c] = 0.9
        maps["offset_x"][0, i, r, c] = own[i, 0] * g - c
        maps["offset_y"][0, i, r, c] = own[i, 1] * g - r
        for kk, j in enumerate(nbrs[i]):
            maps["nb_x"][0, i * k + kk, r, c] = (own[j, 0] + delta[0]) * g - c
            maps["nb_y"][0, i * k + kk, r, c] = (own[j, 1] + delta[1]) * g - r
    points, conf = model.decode({"score": score, **maps})
    reverse = np.bincount(nbrs.ravel(), minlength=n)[:, None]
    expected = own + delta * reverse / (1 + reverse)
    np.testing.assert_allclose(points[0].numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(conf.numpy(), 0.9, atol=1e-6)


@pytest.mark.parametrize("kwargs", [{}, {"score_loss": "bce", "num_neighbors": 4, "stride": 32}])
def test_pipnet_predict_equals_decode_of_forward(kwargs):
    """predict() reads the offsets only at the best cells; it must give decode(forward) exactly."""
    torch.manual_seed(0)
    model = build_model("pipnet_mbv3s", **kwargs).eval()
    with torch.no_grad():  # a trained-looking head: offsets that vary from cell to cell
        model.head.weight.normal_(0, 0.05)
        x = torch.randn(3, 3, 128, 128)
        ref_points, ref_conf = model.decode(model(x))
        points, conf = model.predict(x)
    assert torch.allclose(points, ref_points, atol=1e-5)
    assert torch.allclose(conf, ref_conf, atol=1e-6)


def test_heatmap_decode_subpixel_and_border():
    pts = torch.tensor([[[0.3137, 0.7021], [0.52, 0.48]]])
    maps = gaussian_heatmaps(pts, 32, sigma=1.5)
    decoded, scores = decode_heatmaps(maps)
    assert torch.allclose(decoded, pts, atol=1e-4)
    assert torch.all(scores > 0.9)
    # classic rounded targets lose up to half a heatmap pixel
    rounded, _ = decode_heatmaps(gaussian_heatmaps(pts, 32, sigma=1.5, subpixel=False))
    assert (rounded - pts).abs().max() > 1e-3
    # a peak on the border decodes to the border pixel centre, no NaN
    edge = torch.zeros(1, 1, 8, 8)
    edge[0, 0, 0, 7] = 1.0
    decoded, _ = decode_heatmaps(edge)
    assert torch.allclose(decoded, torch.tensor([[[7.5 / 8, 0.5 / 8]]]))


@pytest.mark.parametrize("name", ["pipnet_mbv3s", "regress_mbv3s", "heatmap_shufflenet"])
def test_visibility_masks_loss(name):
    model = build_model(name)
    out = model(torch.randn(2, 3, 128, 128))
    target = random_points(2)
    vis = torch.ones(2, 68)
    vis[:, 10] = 0
    moved = target.clone()
    moved[:, 10] += 0.3
    a, logs = model.loss(out, target, vis)
    b, _ = model.loss(out, moved, vis)
    assert torch.isfinite(a) and logs
    assert a.item() == pytest.approx(b.item(), rel=1e-5)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("pipnet_mbv3s", {}),
        ("pipnet_mbv3s", {"score_loss": "bce"}),
        ("regress_mbv3s", {"loss": "wing"}),
        ("heatmap_shufflenet", {}),
        ("heatmap_shufflenet", {"loss": "awing"}),
        ("hourglass2", {"channels": 32}),
    ],
)
def test_few_steps_reduce_loss(name, kwargs):
    model = build_model(name, input_size=64, **kwargs).to(memory_format=torch.channels_last)
    x = torch.randn(4, 3, 64, 64).contiguous(memory_format=torch.channels_last)
    target = random_points(4)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    values = []
    for _ in range(10):
        loss, _ = model.loss(model(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        values.append(loss.item())
    assert min(values[-3:]) < 0.85 * values[0], values


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_zoo_entries_declare_what_their_builders_take(name):
    """The trainer passes the mean shape and prune_model works on what the zoo declares, so each
    declaration must match its builder: checked here by trying, once, instead of at run time."""
    from synthmarks.errors import SynthmarksError
    from synthmarks.models import ZOO
    from synthmarks.models.prune import prune_model

    entry = ZOO[name]
    shape = (DEFAULT_MEAN_SHAPE_68 - 0.5) * 0.8 + 0.5  # not the packaged default
    if entry.mean_shape:
        model = build_model(name, mean_shape=shape)
        np.testing.assert_allclose(model.config["mean_shape"], shape, atol=1e-6)
    else:
        with pytest.raises(TypeError, match="mean_shape"):
            build_model(name, mean_shape=shape)
    model = build_model(name, input_size=3 * entry.input_multiple).eval()
    with torch.no_grad():
        points, _ = model.predict(
            torch.randn(1, 3, 3 * entry.input_multiple, 3 * entry.input_multiple)
        )
    assert points.shape == (1, 68, 2)
    if entry.prunable:
        pruned = prune_model(model, 0.5)
        assert model_info(pruned)["params"] < model_info(model)["params"]
    else:  # its builder has no pruned shape to take
        with pytest.raises(TypeError, match="expand_channels"):
            build_model(name, expand_channels=[8] * 11)
        with pytest.raises(SynthmarksError, match="channel pruning supports"):
            prune_model(model, 0.5)
