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
        args = SFTConfig(**trainer_arguments(config, hardware, Path(work)),
                         completion_only_loss=config.completion_only_loss)
        trainer = SFTTrainer(model=policy, args=args, train_dataset=dataset, processing_class=tokenizer,
                             peft_config=lora_peft_config(config), callbacks=[progress_callback("sft")])
        return finish_run("sft", trainer, config, len(dataset), str(model), out,
                          {"base_model_path": str(base_path)})
