"""Preference training with TRL + PEFT LoRA: DPO, and SPIN (DPO against the previous round's model).

DPO pairs come from success-vs-failure at the same state; SPIN pairs put the reference
solution (chosen) against the current model's own output (rejected). One SPIN round is DPO
whose reference model is the model being trained from, i.e. the previous round's model;
iterating it round after round (`train.method: sft+spin` in `domplay run`) is SPIN.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from domplay.train.config import DPOTrainConfig
from domplay.train.data import load_training_data
from domplay.train.record import TrainResult, finish_run
from domplay.train.setup import (
    load_trainable,
    lora_peft_config,
    progress_callback,
    quiet_training_logs,
    resolve_hardware,
    resolve_model_path,
    trainer_arguments,
)

if TYPE_CHECKING:
    from datasets import Dataset


def train_dpo(
    data: str | Path | Dataset | Sequence[dict[str, Any]],
    model: str | Path = "embedded",
    out_dir: str | Path = "checkpoints/dpo",
    config: DPOTrainConfig | None = None,
    reference: str | Path | None = None,
    method: Literal["dpo", "spin"] = "dpo",
) -> TrainResult:
    """Train `model` on prompt/chosen/rejected `data`; save the merged model and its record in `out_dir`.

    `reference` is the frozen model the KL term is measured against; None means `model` itself
    (with LoRA: the same weights with the adapter switched off, so no second copy is loaded).
    """
    import transformers
    from trl import DPOConfig, DPOTrainer

    config = config or DPOTrainConfig()
    out = Path(out_dir)
    base_path = resolve_model_path(model)
    ref_path = resolve_model_path(reference) if reference is not None else base_path
    hardware = resolve_hardware(config)
    with quiet_training_logs(), tempfile.TemporaryDirectory(prefix=f"domplay-{method}-") as work:
        dataset = load_training_data(data, "preference")
        transformers.set_seed(config.seed)
        policy, tokenizer = load_trainable(base_path, hardware)
        # LoRA against its own base needs no second model: TRL disables the adapter for reference passes.
        ref_model = None
        if config.finetune == "full" or ref_path.resolve() != base_path.resolve():
            ref_model, _ = load_trainable(ref_path, hardware)
            ref_model.eval().requires_grad_(False)
        args = DPOConfig(
            **trainer_arguments(config, hardware, Path(work)),
            beta=config.beta,
            loss_type=[config.loss_type],
            label_smoothing=config.label_smoothing,
        )
        trainer = DPOTrainer(
            model=policy,
            ref_model=ref_model,
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=lora_peft_config(config),
            callbacks=[progress_callback(method)],
        )
        return finish_run(
            method,
            trainer,
            config,
            len(dataset),
            str(model),
            out,
            {"base_model_path": str(base_path), "reference_model_path": str(ref_path)},
        )


def train_spin(
    data: str | Path | Dataset | Sequence[dict[str, Any]],
    model: str | Path = "embedded",
    out_dir: str | Path = "checkpoints/spin",
    config: DPOTrainConfig | None = None,
) -> TrainResult:
    """One SPIN round on SPIN pairs: DPO whose reference is `model`, the previous round's model."""
    return train_dpo(data, model, out_dir, config, reference=None, method="spin")
