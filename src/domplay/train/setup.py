"""How a trainer is set up: device and precision, loading the model to train, LoRA, TRL's
arguments, quiet library logs and a progress display."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domplay.errors import ConfigError, ModelError
from domplay.train.config import _TrainConfig

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

EMBEDDED_SPEC = "embedded"
_NOISY_LOGGERS = ("transformers", "trl", "peft", "datasets", "accelerate")
_LIBRARY_MODULES = r"(transformers|trl|peft|datasets|accelerate|torch)(\.|$)"


@dataclass(frozen=True)
class Hardware:
    """Where and in which precision a run trains."""

    device: str  # "cuda" or "cpu"
    bf16: bool  # mixed-precision bf16 autocast in the Trainer
    load_dtype: str  # dtype the weights are loaded in: "bfloat16" (frozen LoRA base on GPU) or "float32"


def resolve_hardware(config: _TrainConfig) -> Hardware:
    """CUDA when present (and not overridden), else CPU; bf16 autocast where the device computes
    bf16 natively (a GPU, or a CPU with AMX/AVX512-BF16), float32 elsewhere.

    On a CPU with AMX, bf16 autocast trains 1.7x faster than float32 and the trained policies
    matched: teacher-forced held-out step accuracy 30.1 % vs 28.2 % after the same 512 SFT passes
    (`bench/step_accuracy.py`; README). `precision="float32"` reproduces TRL's losses exactly."""
    import torch

    from domplay.hardware import native_bf16

    cuda = torch.cuda.is_available()
    if config.device == "cuda" and not cuda:
        raise ConfigError("device='cuda' but torch sees no CUDA GPU; use device='auto' or 'cpu'")
    device = "cuda" if config.device == "cuda" or (config.device == "auto" and cuda) else "cpu"
    if config.precision == "auto":
        bf16 = native_bf16(device)
    else:
        bf16 = config.precision == "bfloat16"
    # A frozen LoRA base can live in bf16 on a GPU (memory); fully fine-tuned weights keep float32 masters
    # under autocast, and so does a LoRA base on CPU, where memory is plenty and a merge into bf16 weights
    # would round small adapter updates away.
    load_dtype = "bfloat16" if bf16 and config.finetune == "lora" and device == "cuda" else "float32"
    return Hardware(device=device, bf16=bf16, load_dtype=load_dtype)


def resolve_model_path(model: str | Path) -> Path:
    """`"embedded"` is the embedded SmolLM2 (converted once into the cache); anything else a local model dir."""
    if str(model) == EMBEDDED_SPEC:
        from domplay.llm.embedded import embedded_model_dir

        return embedded_model_dir()
    path = Path(str(model).removeprefix("hf:")).expanduser()
    if not (path / "config.json").is_file():
        raise ModelError(
            f"no model at {str(path)!r} (config.json missing); give 'embedded' or a local Hugging Face model directory"
        )
    return path


def load_trainable(path: Path, hardware: Hardware) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load weights and tokenizer from a local directory; never downloads."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    dtype: torch.dtype = getattr(torch, hardware.load_dtype)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, local_files_only=True)
    return model.to(hardware.device), tokenizer  # type: ignore[arg-type]  # transformers' .to stub takes no str device


def lora_peft_config(config: _TrainConfig) -> Any:
    """The peft.LoraConfig for `config`, or None for full fine-tuning."""
    if config.finetune != "lora":
        return None
    from peft import LoraConfig

    lora = config.lora
    return LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=list(lora.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )


def trainer_arguments(config: _TrainConfig, hardware: Hardware, work_dir: Path) -> dict[str, Any]:
    """Keyword arguments shared by TRL's SFTConfig and DPOConfig."""
    return {
        "output_dir": str(work_dir),
        "learning_rate": config.learning_rate,
        "num_train_epochs": config.num_epochs,
        "max_steps": config.max_steps if config.max_steps is not None else -1,
        "per_device_train_batch_size": config.batch_size,
        "gradient_accumulation_steps": config.grad_accum_steps,
        "max_length": config.max_length_tokens,
        "warmup_steps": config.warmup_ratio,  # a float in [0, 1) is a ratio of the total steps
        "lr_scheduler_type": config.lr_scheduler,
        "weight_decay": config.weight_decay,
        "max_grad_norm": config.max_grad_norm,
        "logging_steps": config.logging_steps,
        "seed": config.seed,
        "data_seed": config.seed,
        "gradient_checkpointing": config.gradient_checkpointing,
        "bf16": hardware.bf16,
        "fp16": False,
        "use_cpu": hardware.device == "cpu",
        "report_to": [],
        "save_strategy": "no",
        "push_to_hub": False,
        "disable_tqdm": True,
        "log_level": "error",
        "dataloader_num_workers": 0,
    }


@contextlib.contextmanager
def quiet_training_logs() -> Iterator[None]:
    """Keep the libraries' progress bars and advice off the console; errors still show."""
    import datasets
    import transformers

    levels = {name: logging.getLogger(name).level for name in _NOISY_LOGGERS}
    verbosity = transformers.logging.get_verbosity()
    bars = datasets.is_progress_bar_enabled()
    hf_bars = transformers.utils.logging.is_progress_bar_enabled()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    datasets.disable_progress_bars()
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            for category in (UserWarning, FutureWarning):  # advice from the libraries, not from domplay
                warnings.filterwarnings("ignore", category=category, module=_LIBRARY_MODULES)
            yield
    finally:
        transformers.logging.set_verbosity(verbosity)
        if bars:
            datasets.enable_progress_bars()
        if hf_bars:
            transformers.utils.logging.enable_progress_bar()
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


PLAIN_PROGRESS_LINES = 10
"""Without a terminal, training reports progress as this many plain lines on stderr."""


def progress_callback(desc: str) -> Any:
    """A TrainerCallback that shows training progress (steps, ETA, latest loss).

    On a terminal: one progress bar. Otherwise (logs, pipes): a plain line on stderr at every
    tenth of the steps, so a long CPU run is not silent and stdout (e.g. the CLI's JSON line)
    stays clean.
    """
    import sys
    import time

    from tqdm import tqdm
    from transformers import TrainerCallback

    class _Progress(TrainerCallback):
        bar = None
        loss: float | None = None
        started = 0.0
        next_line = 0

        def on_train_begin(self, args, state, control, **kwargs):
            # disable=None: a bar on a terminal only
            self.bar = tqdm(total=state.max_steps, desc=desc, unit="step", dynamic_ncols=True, disable=None)
            self.started = time.perf_counter()
            self.next_line = max(1, state.max_steps // PLAIN_PROGRESS_LINES)

        def on_step_end(self, args, state, control, **kwargs):
            if self.bar is not None and not self.bar.disable:
                self.bar.update(state.global_step - self.bar.n)
            elif state.global_step >= self.next_line or state.global_step == state.max_steps:
                self.next_line = state.global_step + max(1, state.max_steps // PLAIN_PROGRESS_LINES)
                elapsed = time.perf_counter() - self.started
                left = elapsed / state.global_step * (state.max_steps - state.global_step)
                loss = f", loss {self.loss:.3f}" if self.loss is not None else ""
                print(
                    f"{desc}: step {state.global_step}/{state.max_steps}{loss}, "
                    f"{elapsed / 60:.1f} min elapsed, ~{left / 60:.1f} min left",
                    file=sys.stderr,
                    flush=True,
                )

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                self.loss = float(logs["loss"])
                if self.bar is not None:
                    self.bar.set_postfix(loss=f"{self.loss:.3f}")

        def on_train_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.close()

    return _Progress()
