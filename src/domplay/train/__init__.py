"""Trainers: SFT, DPO and SPIN with TRL + PEFT LoRA (online DPO and SPIN rounds run in the loop, `domplay.stages`).

Importing this package is cheap: torch, transformers and TRL load when a trainer runs.
Every trainer writes a full merged model plus `training.json` (config, git revision, metrics).
"""

from domplay.train.config import (
    DPOTrainConfig,
    LoraSettings,
    SFTTrainConfig,
    TrainConfig,
    parse_config,
)
from domplay.train.dpo import train_dpo, train_spin
from domplay.train.merge import merge_adapter
from domplay.train.record import TrainResult, read_record, read_result
from domplay.train.sft import train_sft

__all__ = [
    "DPOTrainConfig",
    "LoraSettings",
    "SFTTrainConfig",
    "TrainConfig",
    "TrainResult",
    "merge_adapter",
    "parse_config",
    "read_record",
    "read_result",
    "train_dpo",
    "train_sft",
    "train_spin",
]
