"""Loading a model says nothing: no TracerWarning (once two on every .pt), no other warning.

Run in a fresh interpreter with every warning shown but DeprecationWarning (which Python hides
from users by default: torch's own notices about its exporter are not for them), as a user's script
would meet them; pytest's own warning capture would otherwise hide what a user sees on stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from synthmarks.infer.landmarker import DEFAULT_CHECKPOINT, DEFAULT_ONNX

# each load predicts once too: the tracer and ONNX Runtime warn when a graph first runs
SCRIPT = """
import sys
import warnings
warnings.simplefilter("always")
warnings.simplefilter("ignore", DeprecationWarning)
import numpy as np
from synthmarks import Landmarker
model, backend = sys.argv[1], sys.argv[2]
lm = Landmarker(model, backend=backend)
lm.predict(np.zeros((200, 200, 3), np.uint8), np.array([50.0, 50.0, 150.0, 150.0]))
print("loaded")
"""


@pytest.mark.parametrize(
    ("model", "backend"),
    [
        (DEFAULT_CHECKPOINT, "torch"),  # a .pt in PyTorch
        (DEFAULT_CHECKPOINT, "onnx"),  # a .pt exported in memory: where the TracerWarnings were
        (DEFAULT_ONNX, "auto"),  # the released .onnx
    ],
    ids=["pt-torch", "pt-onnx-export", "onnx"],
)
def test_loading_a_model_prints_no_warning(model, backend):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    r = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(model), backend],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "loaded"
    assert "TracerWarning" not in r.stderr, r.stderr
    assert "Warning" not in r.stderr, r.stderr
