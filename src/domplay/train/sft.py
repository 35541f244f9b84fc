"""Supervised fine-tuning (rejection sampling on verified successes) with TRL + PEFT LoRA.

    result = train_sft("runs/r1/sft.parquet", model="embedded", out_dir="runs/r1/model")
    load_model(f"hf:{result.model_dir}")  # the next round's policy
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domplay.train.config import SFTTrainConfig
from domplay.train.data import load_training_data
from domplay.train.runtime import (
    TrainResult,
    finish_run,
    load_model,
    lora_peft_config,
    progress_callback,
    quiet_training_logs,
    resolve_hardware,
    resolve_model_path,
    trainer_arguments,
)

if TYPE_CHECKING:
    from datasets import Dataset


def train_sft(data: str | Path | Dataset | Sequence[dict[str, Any]], model: str | Path = "embedded",
              out_dir: str | Path = "checkpoints/sft", config: SFTTrainConfig | None = None) -> TrainResult:
    """Fine-tune `model` on prompt/completion `data`; save the merged model and its record in `out_dir`."""
    import transformers
    from trl import SFTConfig, SFTTrainer

    config = config or SFTTrainConfig()
    out = Path(out_dir)
    base_path = resolve_model_path(model)
    hardware = resolve_hardware(config)
    with quiet_training_logs(), tempfile.TemporaryDirectory(prefix="domplay-sft-") as work:
        dataset = load_training_data(data, "sft")
        transformers.set_seed(config.seed)  # before the adapter is initialised
        policy, tokenizer = load_model(base_path, hardware)
        # Batches of similar lengths: step examples range from ~300 to ~600 tokens, and random
        # batches of 4 padded ~13 % more tokens than they hold.
        args = SFTConfig(**trainer_arguments(config, hardware, Path(work)),
                         completion_only_loss=config.completion_only_loss,
                         train_sampling_strategy="group_by_length")
        trainer = _labelled_head_trainer(SFTTrainer)(
            model=policy, args=args, train_dataset=dataset, processing_class=tokenizer,
            peft_config=lora_peft_config(config), callbacks=[progress_callback("sft")])
        return finish_run("sft", trainer, config, len(dataset), str(model), out,
                          {"base_model_path": str(base_path)})


DECODER_INPUTS = ("input_ids", "attention_mask", "position_ids")


def labelled_token_loss(model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None,
                        bf16: bool = False) -> Any:
    """Next-token cross-entropy over the labelled positions, with the LM head applied to those alone.

    The same value as the model's own loss (mean over labels != -100, or sum / `num_items_in_batch`
    under gradient accumulation), but the vocabulary projection runs on the ~10 completion tokens of
    a step example instead of all ~450: on CPU that head (49k x 576 for SmolLM2) was a third of the
    training step. `bf16` runs the forward under bfloat16 autocast (float32 weights stay the masters).
    """
    import torch

    labels = inputs["labels"]
    device = labels.device.type
    with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
        hidden = model.get_decoder()(**{k: inputs[k] for k in DECODER_INPUTS if k in inputs},
                                     use_cache=False).last_hidden_state
        targets = labels[:, 1:]
        keep = targets != -100
        logits = model.get_output_embeddings()(hidden[:, :-1][keep])
    total = torch.nn.functional.cross_entropy(logits.float(), targets[keep], reduction="sum")
    count = keep.sum() if num_items_in_batch is None else num_items_in_batch
    return total / torch.as_tensor(count, device=total.device).clamp(min=1)


def _labelled_head_trainer(base: type) -> type:
    """`base` (TRL's SFTTrainer) with `labelled_token_loss` as its training loss.

    TRL's own loss computes log-probabilities, entropy and accuracy at every position; only the loss
    is used here. A model wrapped for distributed training (DDP, FSDP) keeps TRL's path, which goes
    through the wrapper's forward as those need."""

    class LabelledHeadTrainer(base):  # type: ignore[misc, valid-type]
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            unwrapped = self.accelerator.unwrap_model(model)
            if return_outputs or unwrapped is not model or not hasattr(model, "get_decoder"):
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            return labelled_token_loss(model, inputs, num_items_in_batch, bf16=self.args.bf16)

    return LabelledHeadTrainer
