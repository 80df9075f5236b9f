"""Model input: the one normalisation that training, PyTorch inference and the ONNX graph share."""

from __future__ import annotations

import numpy as np
import torch

from synthmarks.infer.runtime import to_model_input


def test_model_input_is_normalised_channels_last():
    images = torch.full((2, 64, 64, 3), 255, dtype=torch.uint8)
    images[:, 0, 0] = torch.tensor([0, 51, 255], dtype=torch.uint8)
    x = to_model_input(images, (0.5, 0.5, 0.5), (0.25, 0.5, 1.0))
    assert x.shape == (2, 3, 64, 64) and x.dtype == torch.float32
    assert x.is_contiguous(memory_format=torch.channels_last)
    np.testing.assert_allclose(x[0, :, 1, 1].numpy(), [2.0, 1.0, 0.5], rtol=1e-6)
    np.testing.assert_allclose(x[1, :, 0, 0].numpy(), [-2.0, -0.6, 0.5], rtol=1e-6)
