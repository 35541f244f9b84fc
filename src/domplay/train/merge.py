"""Turn a trained (LoRA) model into a plain full model directory the next round loads.

The output is what `load_model("hf:<dir>")` expects: config.json, safetensors weights,
generation config and tokenizer files, with no PEFT needed at inference time.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from domplay.errors import ModelError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


def merge_and_save(model: Any, tokenizer: PreTrainedTokenizerBase, out_dir: str | Path) -> Path:
    """Fold a PeftModel's adapter into its base weights (a plain model is saved as is) and save it."""
    from peft import PeftModel

    out = Path(out_dir)
    merged: PreTrainedModel = model.merge_and_unload() if isinstance(model, PeftModel) else model
    merged.config.use_cache = True  # training switches the KV cache off; generation wants it back
    _replace_dir(out)
    merged.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def merge_adapter(base_model: str | Path, adapter_dir: str | Path, out_dir: str | Path) -> Path:
    """Merge a saved LoRA adapter into its base model directory; write the full model to `out_dir`."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from domplay.train.setup import quiet_training_logs, resolve_model_path

    base = resolve_model_path(base_model)
    adapter = Path(adapter_dir)
    if not (adapter / "adapter_config.json").is_file():
        raise ModelError(f"no LoRA adapter at {str(adapter)!r} (adapter_config.json missing)")
    with quiet_training_logs():
        model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
        return merge_and_save(PeftModel.from_pretrained(model, adapter), tokenizer, out_dir)


def _replace_dir(out: Path) -> None:
    # Leftover weight shards from an earlier save would be loaded alongside the new ones.
    for stale in list(out.glob("*.safetensors")) + list(out.glob("*.safetensors.index.json")):
        stale.unlink()
    out.mkdir(parents=True, exist_ok=True)
