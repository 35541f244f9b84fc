"""What a training run produced and the record (config, git revision, library versions, metrics)
stored next to the weights in every checkpoint directory."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from domplay.errors import ModelError
from domplay.train.config import _TrainConfig
from domplay.train.merge import merge_and_save

RECORD_NAME = "training.json"
"""The file in every checkpoint directory that says how its weights were made."""
GIT_TIMEOUT_S = 5.0


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


def git_revision() -> str:
    """`git rev-parse HEAD` of the domplay source tree, or "unknown" outside a git checkout."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
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


def training_result(
    method: str, trainer: Any, rows: int, seconds: float, base_model: str, model_dir: Path, adapter_dir: Path | None
) -> TrainResult:
    """Build the TrainResult from a finished Trainer's state."""
    history = trainer.state.log_history
    losses = tuple(float(entry["loss"]) for entry in history if "loss" in entry)
    if not losses:
        raise ModelError(f"{method} training logged no loss (log history: {history!r:.200})")
    steps = int(trainer.state.global_step)
    # state.epoch counts fractional passes over the data, so it also covers short last batches.
    examples_seen = round(float(trainer.state.epoch or 0.0) * rows)
    return TrainResult(
        method=method,
        model_dir=model_dir,
        adapter_dir=adapter_dir,
        base_model=base_model,
        rows=rows,
        examples_seen=examples_seen,
        steps=steps,
        losses=losses,
        final_loss=losses[-1],
        seconds=seconds,
        seconds_per_example=seconds / max(1, examples_seen),
        git_revision=git_revision(),
    )


def finish_run(
    method: str, trainer: Any, config: _TrainConfig, rows: int, base_model: str, out_dir: Path, extra: dict[str, Any]
) -> TrainResult:
    """Train, then save the adapter (if kept), the merged full model and the record; return the result."""
    from peft import PeftModel
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # it prints every log dict; the losses go to the record instead
    with Stopwatch() as clock:
        trainer.train()
    model = trainer.accelerator.unwrap_model(trainer.model)
    adapter_dir = None
    if isinstance(model, PeftModel) and config.keep_adapter:
        adapter_dir = out_dir / "adapter"
        model.save_pretrained(str(adapter_dir))
    merge_and_save(model, trainer.processing_class, out_dir)
    result = training_result(method, trainer, rows, clock.seconds, base_model, out_dir, adapter_dir)
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
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "trl": trl.__version__,
            "peft": peft.__version__,
        },
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
