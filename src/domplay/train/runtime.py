"""What every trainer shares: device and precision, model loading, TRL arguments, quiet logs,
and the record (config, git revision, metrics) stored in every checkpoint directory."""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from domplay.errors import ConfigError, ModelError
from domplay.train.config import _TrainConfig

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

RECORD_NAME = "training.json"
"""The file in every checkpoint directory that says how its weights were made."""
EMBEDDED_SPEC = "embedded"
GIT_TIMEOUT_S = 5.0
_NOISY_LOGGERS = ("transformers", "trl", "peft", "datasets", "accelerate")
_LIBRARY_MODULES = r"(transformers|trl|peft|datasets|accelerate|torch)(\.|$)"


@dataclass(frozen=True)
class Hardware:
    """Where and in which precision a run trains."""

    device: str  # "cuda" or "cpu"
    bf16: bool  # mixed-precision bf16 autocast in the Trainer
    load_dtype: str  # dtype the weights are loaded in: "bfloat16" (frozen LoRA base on GPU) or "float32"


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced; the same numbers are in `<model_dir>/training.json`."""

    method: str  # "sft", "dpo" or "spin"
    model_dir: Path  # full merged model (safetensors + tokenizer), loadable with the transformers backend
    adapter_dir: Path | None  # the unmerged LoRA adapter, when kept
    base_model: str
    rows: int  # examples in the dataset
    examples_seen: int  # rows processed, counting repeats over epochs/steps
    steps: int  # optimizer steps
    losses: tuple[float, ...]  # training loss at each logging step
    final_loss: float
    seconds: float  # wall time of the training loop (excludes loading, merging, saving)
    seconds_per_example: float
    git_revision: str


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
        raise ModelError(f"no model at {str(path)!r} (config.json missing); give 'embedded' or a local "
                         f"Hugging Face model directory")
    return path


def load_model(path: Path, hardware: Hardware) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load weights and tokenizer from a local directory; never downloads."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    dtype: torch.dtype = getattr(torch, hardware.load_dtype)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, local_files_only=True)
    return model.to(hardware.device), tokenizer


def lora_peft_config(config: _TrainConfig) -> Any:
    """The peft.LoraConfig for `config`, or None for full fine-tuning."""
    if config.finetune != "lora":
        return None
    from peft import LoraConfig

    lora = config.lora
    return LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                      target_modules=list(lora.target_modules), bias="none", task_type="CAUSAL_LM")


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


def git_revision() -> str:
    """`git rev-parse HEAD` of the domplay source tree, or "unknown" outside a git checkout."""
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
                              capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "unknown"


class Stopwatch:
    """Wall time of a block, in seconds."""

    def __enter__(self) -> Self:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def summarize(method: str, trainer: Any, rows: int, seconds: float, base_model: str, model_dir: Path,
              adapter_dir: Path | None) -> TrainResult:
    """Build the TrainResult from a finished Trainer's state."""
    history = trainer.state.log_history
    losses = tuple(float(entry["loss"]) for entry in history if "loss" in entry)
    if not losses:
        raise ModelError(f"{method} training logged no loss (log history: {history!r:.200})")
    steps = int(trainer.state.global_step)
    # state.epoch counts fractional passes over the data, so it also covers short last batches.
    examples_seen = round(float(trainer.state.epoch or 0.0) * rows)
    return TrainResult(method=method, model_dir=model_dir, adapter_dir=adapter_dir, base_model=base_model,
                       rows=rows, examples_seen=examples_seen, steps=steps, losses=losses,
                       final_loss=losses[-1], seconds=seconds, seconds_per_example=seconds / max(1, examples_seen),
                       git_revision=git_revision())


def finish_run(method: str, trainer: Any, config: _TrainConfig, rows: int, base_model: str, out_dir: Path,
               extra: dict[str, Any]) -> TrainResult:
    """Train, then save the adapter (if kept), the merged full model and the record; return the result."""
    from peft import PeftModel
    from transformers.trainer_callback import PrinterCallback

    from domplay.train.merge import merge_and_save

    trainer.remove_callback(PrinterCallback)  # it prints every log dict; the losses go to the record instead
    with Stopwatch() as clock:
        trainer.train()
    model = trainer.accelerator.unwrap_model(trainer.model)
    adapter_dir = None
    if isinstance(model, PeftModel) and config.keep_adapter:
        adapter_dir = out_dir / "adapter"
        model.save_pretrained(adapter_dir)
    merge_and_save(model, trainer.processing_class, out_dir)
    result = summarize(method, trainer, rows, clock.seconds, base_model, out_dir, adapter_dir)
    write_record(out_dir, result, config, extra)
    if adapter_dir is not None:
        write_record(adapter_dir, result, config, extra)
    return result


def write_record(directory: Path, result: TrainResult, config: _TrainConfig, extra: dict[str, Any]) -> Path:
    """Store config, git revision, library versions and metrics as JSON next to the weights."""
    import peft
    import torch
    import transformers
    import trl

    record = {
        "method": result.method,
        "base_model": result.base_model,
        "config": config.model_dump(mode="json"),
        "config_class": type(config).__name__,
        "git_revision": result.git_revision,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "trl": trl.__version__, "peft": peft.__version__},
        "metrics": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(result).items()},
        **extra,
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / RECORD_NAME
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    return path


def read_result(directory: str | Path) -> TrainResult:
    """The TrainResult of a finished checkpoint (e.g. when resuming a run)."""
    metrics = dict(read_record(directory)["metrics"])
    metrics["model_dir"] = Path(metrics["model_dir"])
    metrics["adapter_dir"] = Path(metrics["adapter_dir"]) if metrics["adapter_dir"] is not None else None
    metrics["losses"] = tuple(metrics["losses"])
    return TrainResult(**metrics)


def read_record(directory: str | Path) -> dict[str, Any]:
    """The training record stored in a checkpoint directory."""
    path = Path(directory) / RECORD_NAME
    if not path.is_file():
        raise ModelError(f"{str(path)!r} does not exist; {str(directory)!r} is not a domplay checkpoint")
    return json.loads(path.read_text())


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
                print(f"{desc}: step {state.global_step}/{state.max_steps}{loss}, "
                      f"{elapsed / 60:.1f} min elapsed, ~{left / 60:.1f} min left", file=sys.stderr, flush=True)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                self.loss = float(logs["loss"])
                if self.bar is not None:
                    self.bar.set_postfix(loss=f"{self.loss:.3f}")

        def on_train_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.close()

    return _Progress()
