"""`synthmarks bench` prints its table (tiny repeat counts: this checks the plumbing, not speed)."""

from synthmarks.cli import main
from synthmarks.eval import baselines


def test_bench_prints_every_row(tiny_checkpoint, shared, capsys, monkeypatch):
    monkeypatch.setenv("SYNTHMARKS_SHARED", str(shared))
    code = main(
        [
            "bench",
            "--model",
            str(tiny_checkpoint),
            "--repeat",
            "3",
            "--frames",
            "12",
            "--batch",
            "4",
        ]
    )
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0 and "frame/s" not in captured.err  # no progress bar before the table
    for row in (
        "params / size",
        "FLOPs",
        "onnx, batch 1",
        "torch, batch 4",
        "detector",
        "video FPS",
        "jitter",
    ):
        assert row in out, row
    for name in baselines.available():  # timed in the same run, and the ratio the issue asks
        assert f"{name} 68-point landmarks ms/face" in out
        assert f"this model (onnx) / {name}" in out


def test_bench_names_what_an_onnx_only_released_model_needs(capsys):
    """bench times a PyTorch checkpoint; the large released model ships as ONNX only."""
    assert main(["bench", "-m", "large"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "checkpoints/README.md" in err


def test_the_ratio_to_dlib_times_the_two_call_by_call_in_turn():
    """Both sides of the ratio see the same machine: their calls alternate, warm-up included."""
    from synthmarks.bench import timeit_pair

    calls = []
    ta, tb = timeit_pair(lambda: calls.append("a"), lambda: calls.append("b"), repeat=5, warmup=2)
    assert calls == ["a", "b"] * 7
    assert ta >= 0 and tb >= 0
