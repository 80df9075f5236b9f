"""The one-off face model conversion says so before it starts, and later runs say nothing."""

from __future__ import annotations

from synthmarks.synth import cli, facemodel


def test_conversion_is_announced_once(shared, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SYNTHMARKS_CACHE", str(tmp_path))
    monkeypatch.setenv("SYNTHMARKS_SHARED", str(shared))
    source = facemodel.find_face_model()
    converted = []

    def convert(path):  # the real conversion takes about a minute; its caching is tested elsewhere
        converted.append(path)
        facemodel.cache_path_for(path).write_bytes(b"")

    monkeypatch.setattr(facemodel, "load_face_model", convert)
    cli.convert_face_model_once(None)
    err = capsys.readouterr().err
    assert converted == [source] and "converting the ICT Face Model" in err and "once" in err
    cli.convert_face_model_once(None)
    assert converted == [source] and capsys.readouterr().err == ""
