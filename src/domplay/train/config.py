"""One config per trainer: SFT, DPO (and SPIN, which is DPO against the previous round's model).

Every field is documented once and recorded next to the weights it produced. LoRA is the
default; `finetune="full"` trains every weight. `learning_rate=None` picks a rate suited to
the fine-tuning method (LoRA adapters tolerate ~10x the rate of full fine-tuning). Training uses
bf16 autocast (float32 master weights) where the device computes bf16 natively: a GPU, or a CPU
with AMX/AVX512-BF16, where it is 1.7x faster than float32; elsewhere float32. Gradient
checkpointing is off by default (slow on CPU).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from domplay.errors import ConfigError
from domplay.settings import Settings

# Llama-style attention and MLP projections (SmolLM2, Llama, Qwen2, Mistral all use these names).
LLAMA_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")

DEFAULT_LEARNING_RATES = {
    # (trainer, finetune) -> rate; LoRA rates follow the PEFT/TRL examples, full rates the papers.
    ("sft", "lora"): 2e-4,
    ("sft", "full"): 2e-5,
    ("dpo", "lora"): 5e-5,
    ("dpo", "full"): 5e-7,
}


TRL_NAMES = {
    "num_train_epochs": "num_epochs",
    "per_device_train_batch_size": "batch_size",
    "gradient_accumulation_steps": "grad_accum_steps",
    "max_length": "max_length_tokens",
    "lr_scheduler_type": "lr_scheduler",
}
"""TRL's (transformers.TrainingArguments') names of options a trainer config holds under its own name;
a config may use either (not both)."""


def trl_names(data: Any) -> Any:
    """`data` with TRL's option names (`TRL_NAMES`) renamed to domplay's."""
    if not isinstance(data, dict) or not TRL_NAMES.keys() & data.keys():
        return data
    out = dict(data)
    for trl, ours in TRL_NAMES.items():
        if trl in out:
            if ours in out:
                raise ValueError(f"{trl!r} is TRL's name for {ours!r}; give one of them, not both")
            out[ours] = out.pop(trl)
    return out


def trl_names_in_run(data: dict[str, Any]) -> dict[str, Any]:
    """A run config's data with TRL's option names in `train.sft` and `train.dpo` renamed (before the
    preset is merged under it, so a TRL name the user wrote replaces the preset's value)."""
    train = data.get("train")
    if not isinstance(train, dict) or not any(isinstance(train.get(k), dict) for k in ("sft", "dpo")):
        return data
    try:
        renamed = {k: trl_names(v) if k in ("sft", "dpo") else v for k, v in train.items()}
    except ValueError as exc:
        raise ConfigError(f"run config: train: {exc}") from None
    return {**data, "train": renamed}


class LoraSettings(Settings):
    """The LoRA adapter trained when `finetune="lora"` (merged into a full model afterwards)."""

    r: int = Field(16, ge=1, description="adapter rank")
    alpha: int = Field(32, ge=1, description="scaling numerator: updates are scaled by alpha / r")
    dropout: float = Field(0.05, ge=0.0, lt=1.0, description="dropout on the adapter input")
    target_modules: tuple[str, ...] = Field(
        LLAMA_TARGET_MODULES, description="module names that get adapters (Llama-style by default)"
    )

    @field_validator("target_modules")
    @classmethod
    def _non_empty(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or any(not name.strip() for name in value):
            raise ValueError(f"target_modules={value!r} must list module names, e.g. {LLAMA_TARGET_MODULES!r}")
        return value


class _TrainConfig(Settings):
    """Fields shared by every trainer."""

    finetune: Literal["lora", "full"] = Field("lora", description="train a LoRA adapter (merged after) or all weights")
    lora: LoraSettings = Field(default_factory=LoraSettings, description="adapter settings (finetune='lora' only)")
    # None only as a default for callers: _default_learning_rate replaces it before validation, and
    # validate_default refuses a None that would slip through.
    learning_rate: float = Field(
        None, validate_default=True, description="peak AdamW learning rate; omitted = suited to the finetune method"
    )
    num_epochs: float = Field(1.0, gt=0.0, description="passes over the dataset (ignored when max_steps is set)")
    max_steps: int | None = Field(None, ge=1, description="optimizer steps; overrides num_epochs when set")
    batch_size: int = Field(4, ge=1, description="examples per device per forward pass")
    grad_accum_steps: int = Field(1, ge=1, description="forward passes accumulated into one optimizer step")
    max_length_tokens: int = Field(
        1536,
        ge=8,
        description="longest tokenized example; longer ones are truncated "
        "(a step's prompt is its observation budget plus ~200 tokens of task and history)",
    )
    warmup_ratio: float = Field(0.0, ge=0.0, lt=1.0, description="fraction of steps with linear LR warm-up")
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = Field(
        "linear", description="learning-rate schedule after warm-up"
    )
    weight_decay: float = Field(0.0, ge=0.0, description="AdamW weight decay")
    max_grad_norm: float = Field(1.0, gt=0.0, description="gradient clipping norm")
    logging_steps: int = Field(1, ge=1, description="optimizer steps between recorded loss values")
    seed: int = Field(0, description="seeds data order, dropout and adapter initialisation")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto = CUDA when present, else CPU")
    precision: Literal["auto", "float32", "bfloat16"] = Field(
        "auto",
        description="auto = bfloat16 autocast where the device computes bf16 natively (a GPU; a CPU "
        "with AMX/AVX512-BF16, 1.7x faster than float32 there), float32 otherwise",
    )
    gradient_checkpointing: bool = Field(False, description="trade compute for memory; off by default (slow on CPU)")
    keep_adapter: bool = Field(True, description="also keep the unmerged LoRA adapter under <out>/adapter")

    @model_validator(mode="before")
    @classmethod
    def _default_learning_rate(cls, data: Any) -> Any:
        data = trl_names(data)
        if isinstance(data, dict) and data.get("learning_rate") is None:
            finetune = data.get("finetune", "lora")
            # A bad finetune value is reported by its own field check, not as a missing rate.
            rate = DEFAULT_LEARNING_RATES.get(
                (cls.trainer_kind, finetune), DEFAULT_LEARNING_RATES[(cls.trainer_kind, "lora")]
            )
            data = {**data, "learning_rate": rate}
        return data

    @field_validator("learning_rate")
    @classmethod
    def _positive_rate(cls, value: float) -> float:
        if not 0.0 < value < 1.0:
            raise ValueError(f"learning_rate={value!r} must be in (0, 1), e.g. 2e-4 for LoRA or 2e-5 for full")
        return value

    trainer_kind: ClassVar[str] = "sft"


class SFTTrainConfig(_TrainConfig):
    """Supervised fine-tuning on conversational prompt/completion data (TRL SFTTrainer)."""

    trainer_kind: ClassVar[str] = "sft"
    completion_only_loss: bool = Field(True, description="loss on the completion tokens only, not the prompt")
    first_token_weight: float = Field(
        1.0,
        gt=0.0,
        description="loss weight of each completion's first token "
        "against 1 for the others. In a step example that token is the action "
        "name, the decision; the rest (ids, quoted text) is mostly copied",
    )


class DPOTrainConfig(_TrainConfig):
    """Direct preference optimisation on prompt/chosen/rejected data (TRL DPOTrainer).

    With LoRA the reference model is the starting model with the adapter disabled; with full
    fine-tuning it is a frozen copy of the starting model. SPIN uses this config too: its
    reference is the previous round's model, which is exactly the starting model here.
    """

    trainer_kind: ClassVar[str] = "dpo"
    beta: float = Field(0.1, gt=0.0, description="KL strength: higher keeps the policy nearer the reference")
    loss_type: Literal["sigmoid", "ipo", "hinge", "robust"] = Field("sigmoid", description="DPO loss variant")
    label_smoothing: float = Field(0.0, ge=0.0, lt=0.5, description="assumed preference-label noise (cDPO/robust)")


TrainMethod = Literal["none", "sft", "sft+dpo", "sft+spin", "sft+online-dpo"]


class TrainConfig(Settings):
    """What a run's train stage does each round, and the trainers' own configs.

    - `none`: trains nothing (data collection and evaluation rounds, e.g. for ablations).
    - `sft`: SFT on the round's verified steps.
    - `sft+dpo`: SFT, then DPO on the round's model-vs-reference and success-vs-failure pairs
      (reference = the SFT model).
    - `sft+spin`: SFT, then SPIN: at every verified state the previous round's model generates
      its own action (rejected) against the verified step (chosen), trained with the DPO/SPIN
      logistic loss against the previous round's model as the opponent (reference).
    - `sft+online-dpo`: SFT, then online DPO: the SFT model acts on the round's training tasks,
      the verifier ranks its episodes against each other and the reference replays, and DPO
      trains on those pairs (reference = the SFT model) within the same round.

    Every trainer's seed is its config's `seed` + the run's seed + the round.
    """

    method: TrainMethod = "sft+dpo"
    sft: SFTTrainConfig = SFTTrainConfig()
    dpo: DPOTrainConfig = Field(DPOTrainConfig(), description="DPO, SPIN and online DPO training")
    min_pairs_for_dpo: int = Field(16, ge=1, description="skip the preference stage in a round with fewer pairs")


def parse_config(cls: type[_TrainConfig], data: dict[str, Any] | None = None, **overrides: Any) -> Any:
    """Build `cls` from a dict plus overrides (None values ignored); a bad value raises ConfigError
    naming field, value and fix."""
    return cls.model_validate({**(data or {}), **{k: v for k, v in overrides.items() if v is not None}})
