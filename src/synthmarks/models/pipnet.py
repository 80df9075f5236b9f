"""PIPNet head (Jin et al., "Pixel-in-Pixel Net", IJCV 2021).

On a G x G grid (G = input_size / stride) the head predicts, per landmark i and cell:
* a score (is landmark i in this cell?),
* the x/y offset of landmark i inside the cell, in cell units (0..1 from the cell's top-left),
* the x/y offsets of i's K nearest neighbours in the mean shape, relative to the same cell.

Decoding takes the best cell of each landmark, adds its offset, and then averages each
landmark's own prediction with the predictions its "reverse neighbours" (the landmarks that list
it among their K neighbours) made for it - PIPNet's neighbour regression merge (NRM). The merge is
a fixed [N, N*K] averaging matrix (a buffer derived from the mean shape), so it is one matmul in
ONNX and the mean is exact (no padding of reverse-neighbour lists).

Target convention: landmark at normalised p -> grid position u = p * G; its cell is
``floor(u)`` clamped to [0, G-1] and its offset ``u - cell`` (outside [0, 1) only when the point
is outside the crop). Decoded point = (cell + offset) / G.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from synthmarks.models import losses
from synthmarks.models.base import LandmarkModel, PoseHead
from synthmarks.models.layers import ConvBNAct
from synthmarks.models.mean_shape import default_mean_shape, nearest_neighbours

SCORE_LOSSES = ("mse", "bce")


def merge_matrix(neighbours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(self_weight [N], merge [N, N*K]) such that the NRM average of landmark j is
    ``self_weight[j] * own[j] + merge[j] @ neighbour_predictions.flatten()``, where
    ``neighbour_predictions[i, k]`` is landmark i's prediction for landmark ``neighbours[i, k]``."""
    n, k = neighbours.shape
    merge = np.zeros((n, n * k), dtype=np.float32)
    merge[neighbours.reshape(-1), np.arange(n * k)] = 1.0
    count = 1.0 + merge.sum(1)
    return (1.0 / count).astype(np.float32), (merge / count[:, None]).astype(np.float32)


class PIPNetModel(LandmarkModel):
    """PIPNet on any backbone with ``out_channels``/``stride``.

    Loss (as in the paper): ``score_weight * score_loss + offset_weight * (L1(x) + L1(y) +
    L1(nb_x) + L1(nb_y))``, offsets supervised only at the ground-truth cell. ``score_loss="mse"``
    (paper default; the score map is trained towards a one-hot cell, confidence = clamped score)
    or ``"bce"`` (score is a logit, confidence = sigmoid). ``head_channels`` adds a shared 1x1
    conv-BN-hswish before the prediction layer (None: predict from the backbone features).
    """

    def __init__(
        self,
        backbone: nn.Module,
        num_points: int = 68,
        input_size: int = 128,
        num_neighbors: int = 10,
        mean_shape: Any = None,
        score_loss: str = "mse",
        score_weight: float = 10.0,
        offset_weight: float = 1.0,
        head_channels: int | None = None,
        pose: bool = False,
    ) -> None:
        super().__init__(num_points, input_size)
        if score_loss not in SCORE_LOSSES:
            raise ValueError(f"score_loss must be one of {SCORE_LOSSES}, got {score_loss!r}")
        if input_size % backbone.stride:
            raise ValueError(f"input_size {input_size} not a multiple of stride {backbone.stride}")
        self.backbone = backbone
        self.stride = backbone.stride
        self.grid = input_size // backbone.stride
        self.num_neighbors = num_neighbors
        self.score_loss, self.score_weight, self.offset_weight = (
            score_loss,
            score_weight,
            offset_weight,
        )
        in_ch = backbone.out_channels
        self.neck: nn.Module = nn.Identity()
        if head_channels:
            self.neck = ConvBNAct(in_ch, head_channels, 1, act="hswish")
            in_ch = head_channels
        self.head = nn.Conv2d(in_ch, num_points * (3 + 2 * num_neighbors), 1)
        if pose:
            self.pose_head = PoseHead(in_ch)
        nn.init.normal_(self.head.weight, 0.0, 0.001)
        nn.init.zeros_(self.head.bias)
        if score_loss == "bce":  # start at the prior "1 cell in G*G" instead of p = 0.5 everywhere
            with torch.no_grad():
                self.head.bias[:num_points] = -float(np.log(self.grid * self.grid - 1))

        shape = default_mean_shape(num_points) if mean_shape is None else np.asarray(mean_shape)
        if shape.shape != (num_points, 2):
            raise ValueError(f"mean_shape must be [{num_points}, 2], got {shape.shape}")
        neighbours = nearest_neighbours(shape, num_neighbors)
        self_weight, merge = merge_matrix(neighbours)
        self.register_buffer("neighbours", torch.from_numpy(neighbours))
        self.register_buffer("self_weight", torch.from_numpy(self_weight))
        self.register_buffer("merge_t", torch.from_numpy(merge).t().contiguous())

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        n, nk = self.num_points, self.num_points * self.num_neighbors
        f = self.neck(self.backbone(x))
        y = self.head(f)
        score, off_x, off_y, nb_x, nb_y = torch.split(y, [n, n, n, nk, nk], dim=1)
        out = {"score": score, "offset_x": off_x, "offset_y": off_y, "nb_x": nb_x, "nb_y": nb_y}
        if self.pose_head is not None:
            out["pose"] = self.pose_head(f)
        return out

    def encode(self, points: Tensor) -> dict[str, Tensor]:
        """Perfect head outputs for ``points``: one-hot score (1 at the cell, 0 elsewhere; a
        large logit for ``bce``) and the exact offsets, broadcast over the whole grid."""
        g, k = self.grid, self.num_neighbors
        cell, offset, index = self._cells(points)
        b, n = index.shape
        onehot = F.one_hot(index, g * g).to(points.dtype).reshape(b, n, g, g)
        score = onehot if self.score_loss == "mse" else (onehot * 2.0 - 1.0) * 20.0
        nb = self._neighbour_offsets(points, cell)  # [B, N, K, 2]

        def full(v: Tensor) -> Tensor:  # [B, C] -> [B, C, G, G]
            return v[..., None, None].expand(*v.shape, g, g).contiguous()

        return {
            "score": score,
            "offset_x": full(offset[..., 0]),
            "offset_y": full(offset[..., 1]),
            "nb_x": full(nb[..., 0].reshape(b, n * k)),
            "nb_y": full(nb[..., 1].reshape(b, n * k)),
        }

    def _cells(self, points: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        g = self.grid
        u = points * g
        cell = torch.floor(u).clamp(0, g - 1)
        index = (cell[..., 1] * g + cell[..., 0]).long()
        return cell, u - cell, index

    def _neighbour_offsets(self, points: Tensor, cell: Tensor) -> Tensor:
        u = points * self.grid
        return u[:, self.neighbours] - cell[:, :, None, :]  # [B, N, K, 2]

    def decode(self, out: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        score = out["score"]
        b, n, g, _ = score.shape
        k = self.num_neighbors
        flat = score.reshape(-1, n, g * g)
        best, index = flat.max(dim=-1)
        onehot = (torch.arange(g * g, device=score.device) == index.unsqueeze(-1)).to(score.dtype)
        cx = (index % g).to(score.dtype)
        cy = torch.div(index, g, rounding_mode="floor").to(score.dtype)

        def pick(v: Tensor) -> Tensor:  # value at the best cell, [B, N]
            return (v.reshape(-1, n, g * g) * onehot).sum(-1)

        def pick_nb(v: Tensor, c: Tensor) -> Tensor:  # (cell + offset) / G, [B, N*K]
            nb = (v.reshape(-1, n, k, g * g) * onehot.unsqueeze(2)).sum(-1)
            return ((c.unsqueeze(-1) + nb) / g).reshape(-1, n * k)

        own_x = (cx + pick(out["offset_x"])) / g
        own_y = (cy + pick(out["offset_y"])) / g
        nb_x = pick_nb(out["nb_x"], cx)
        nb_y = pick_nb(out["nb_y"], cy)
        x = own_x * self.self_weight + nb_x @ self.merge_t
        y = own_y * self.self_weight + nb_y @ self.merge_t
        conf = best.clamp(0.0, 1.0) if self.score_loss == "mse" else torch.sigmoid(best)
        return torch.stack([x, y], dim=-1), conf

    def predict(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``decode(forward(x))`` without computing the offset maps at every cell.

        Decoding reads 2 + 2K offsets per landmark at one cell, but the full head computes them
        at all G*G cells (about a quarter of the model's multiply-adds, and the largest tensor it
        writes). Here only the score map is convolved; each landmark's offsets are then the head's
        rows for that landmark applied to the feature vector at its best cell - the same numbers.
        """
        return self._predict(self.neck(self.backbone(x)))

    def predict_all(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
        f = self.neck(self.backbone(x))
        points, scores = self._predict(f)
        return points, scores, None if self.pose_head is None else self.pose_head(f)

    def _predict(self, f: Tensor) -> tuple[Tensor, Tensor]:
        b, c = f.shape[0], f.shape[1]
        n, g, k = self.num_points, self.grid, self.num_neighbors
        weight = self.head.weight.reshape(-1, c)
        bias = self.head.bias
        score = F.conv2d(f, weight[:n, :, None, None], bias[:n])
        best, index = score.reshape(b, n, g * g).max(dim=-1)  # [B, N]
        feats = f.reshape(b, c, g * g).transpose(1, 2)  # [B, G*G, C]
        picked = torch.gather(feats, 1, index.unsqueeze(-1).expand(b, n, c))  # [B, N, C]
        # head rows of landmark i: offset x, offset y, its K neighbour x, its K neighbour y
        ar = torch.arange(n, device=f.device)
        kk = torch.arange(k, device=f.device)
        rows = torch.cat(
            [
                (n + ar).unsqueeze(1),
                (2 * n + ar).unsqueeze(1),
                3 * n + ar.unsqueeze(1) * k + kk,
                3 * n + n * k + ar.unsqueeze(1) * k + kk,
            ],
            dim=1,
        )  # [N, 2 + 2K]
        values = (picked.unsqueeze(2) @ weight[rows].transpose(1, 2)).squeeze(2) + bias[rows]
        col = index % g
        cx = col.to(f.dtype)
        cy = (index - col).to(f.dtype) / g  # exact; a floor division exports sign handling ops
        own_x = (cx + values[..., 0]) / g
        own_y = (cy + values[..., 1]) / g
        nb_x = ((cx.unsqueeze(-1) + values[..., 2 : 2 + k]) / g).reshape(b, n * k)
        nb_y = ((cy.unsqueeze(-1) + values[..., 2 + k :]) / g).reshape(b, n * k)
        px = own_x * self.self_weight + nb_x @ self.merge_t
        py = own_y * self.self_weight + nb_y @ self.merge_t
        conf = best.clamp(0.0, 1.0) if self.score_loss == "mse" else torch.sigmoid(best)
        return torch.stack([px, py], dim=-1), conf

    def loss(
        self, out: dict[str, Tensor], target: Tensor, visibility: Tensor | None = None
    ) -> tuple[Tensor, dict[str, float]]:
        b, n = target.shape[:2]
        g, k = self.grid, self.num_neighbors
        cell, offset, index = self._cells(target)
        onehot = F.one_hot(index, g * g).to(target.dtype)  # [B, N, G*G]
        score = out["score"].reshape(b, n, g * g)
        if self.score_loss == "mse":
            score_value = losses.mse_loss(score, onehot, weight=visibility)
        else:
            bce = F.binary_cross_entropy_with_logits(score, onehot, reduction="none")
            score_value = losses._weighted_mean(bce, visibility)

        def at_cell(v: Tensor, channels_per_point: int) -> Tensor:
            v = v.reshape(b, n, channels_per_point, g * g)
            return (v * onehot.unsqueeze(2)).sum(-1)  # [B, N, C]

        nb_target = self._neighbour_offsets(target, cell)  # [B, N, K, 2]
        nb_weight = None
        if visibility is not None:
            nb_weight = visibility[:, :, None] * visibility[:, self.neighbours]
        parts = {
            "x": losses.l1_loss(at_cell(out["offset_x"], 1)[..., 0], offset[..., 0], visibility),
            "y": losses.l1_loss(at_cell(out["offset_y"], 1)[..., 0], offset[..., 1], visibility),
            "nb_x": losses.l1_loss(at_cell(out["nb_x"], k), nb_target[..., 0], nb_weight),
            "nb_y": losses.l1_loss(at_cell(out["nb_y"], k), nb_target[..., 1], nb_weight),
        }
        total = self.score_weight * score_value + self.offset_weight * sum(parts.values())
        logs = {f"score_{self.score_loss}": float(score_value.detach())}
        logs.update({k_: float(v.detach()) for k_, v in parts.items()})
        return total, logs
