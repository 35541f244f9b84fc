"""Trainers: SFT, DPO, SPIN and online (iterative) DPO with TRL + PEFT LoRA (see DESIGN.md, "Trainer").

Importing this package is cheap: torch, transformers and TRL load when a trainer runs.
Every trainer writes a full merged model plus `training.json` (config, git revision, metrics).
"""

from domplay.train.config import (
           DPOTrainConfig,
           LoraSettings,
           SFTTrainConfig,
           parse_config,
)
from domplay.train.dpo import train_dpo, train_spin
from domplay.train.merge import merge_adapter
from domplay.train.online import Iteration, OnlineConfig, final_model, run_iterative
from domplay.train.runtime import TrainResult, read_record, read_result
from domplay.train.sft import train_sft

__all__ = ["DPOTrainConfig", "Iteration", "LoraSettings", "OnlineConfig", "SFTTrainConfig", "TrainResult",
           "final_model", "merge_adapter", "parse_config", "read_record", "read_result", "run_iterative", "train_dpo",
           "train_sft", "train_spin"]
