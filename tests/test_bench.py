"""`synthmarks bench` prints its table (tiny repeat counts: this checks the plumbing, not speed)."""

from synthmarks.cli import main


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


def test_bench_names_what_an_onnx_only_released_model_needs(capsys):
    """bench times a PyTorch checkpoint; the large released model ships as ONNX only."""
    assert main(["bench", "-m", "large"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "checkpoints/README.md" in err
