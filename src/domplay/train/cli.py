"""`domplay train sft|dpo|spin`: train on exported datasets outside the loop.

    domplay train sft --data runs/r1/sft.parquet --model embedded --out models/sft1
    domplay train dpo --data pairs.jsonl --model models/sft1 --beta 0.2 --max-steps 200
    domplay train spin --data spin_pairs/ --model models/sft1 --config spin.yaml

The last line printed is a JSON summary of the run (also stored in <out>/training.json).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from domplay.errors import ConfigError, DomplayError
from domplay.exits import command_error

DEFAULT_OUT_ROOT = Path("checkpoints")
RUN_CONFIG_KEYS = frozenset({"preset", "train", "policy", "rollout", "env"})
"""Keys by which `--config` is recognised as a run config (its train.sft or train.dpo is used)."""


def _common_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--data",
            "data",
            required=True,
            type=click.Path(exists=True),
            help="Dataset: a `datasets` directory, .parquet or .jsonl in TRL's conversational format.",
        ),
        click.option(
            "--model",
            default="embedded",
            show_default=True,
            help="'embedded' (SmolLM2-135M-Instruct) or a local Hugging Face model directory.",
        ),
        click.option(
            "--out",
            "out",
            type=click.Path(),
            default=None,
            help="Output directory for the merged model [default: checkpoints/<method>-<time>].",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(exists=True, dir_okay=False),
            default=None,
            help="YAML/JSON file of trainer config fields, or a run's config.yaml (its train.sft / "
            "train.dpo); the options below override it.",
        ),
        click.option("--full", "full", is_flag=True, default=None, help="Full fine-tuning instead of LoRA."),
        click.option(
            "--lr",
            "learning_rate",
            type=float,
            default=None,
            help="Learning rate [default: suited to LoRA or full fine-tuning].",
        ),
        click.option("--epochs", "num_epochs", type=float, default=None, help="Passes over the data."),
        click.option("--max-steps", "max_steps", type=int, default=None, help="Optimizer steps (overrides --epochs)."),
        click.option("--batch-size", "batch_size", type=int, default=None, help="Examples per forward pass."),
        click.option("--grad-accum", "grad_accum_steps", type=int, default=None, help="Gradient accumulation steps."),
        click.option("--max-length", "max_length_tokens", type=int, default=None, help="Longest example, in tokens."),
        click.option("--seed", type=int, default=None, help="Training seed."),
    ]
    return functools.reduce(lambda cmd, option: option(cmd), reversed(options), command)


def _beta_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--beta", type=float, default=None, help="DPO KL strength.")(command)


@click.group()
def train() -> None:
    """Train a policy with TRL (LoRA by default) on exported SFT / preference datasets."""


@train.command("sft")
@_common_options
def train_sft_command(data: str, model: str, out: str | None, config_file: str | None, **fields: Any) -> None:
    """Supervised fine-tuning on prompt/completion data (loss on completions only)."""
    from domplay.train.config import SFTTrainConfig
    from domplay.train.sft import train_sft

    config = _build_config(SFTTrainConfig, config_file, fields)
    _run(lambda: train_sft(data, model, _out_dir(out, "sft"), config))


@train.command("dpo")
@_common_options
@_beta_option
@click.option("--reference", default=None, help="Reference model directory [default: the --model itself].")
def train_dpo_command(
    data: str, model: str, out: str | None, config_file: str | None, reference: str | None, **fields: Any
) -> None:
    """DPO on prompt/chosen/rejected data."""
    from domplay.train.config import DPOTrainConfig
    from domplay.train.dpo import train_dpo

    config = _build_config(DPOTrainConfig, config_file, fields)
    _run(lambda: train_dpo(data, model, _out_dir(out, "dpo"), config, reference=reference))


@train.command("spin")
@_common_options
@_beta_option
def train_spin_command(data: str, model: str, out: str | None, config_file: str | None, **fields: Any) -> None:
    """One SPIN round on SPIN pairs: DPO against --model, the previous round's model."""
    from domplay.train.config import DPOTrainConfig
    from domplay.train.dpo import train_spin

    config = _build_config(DPOTrainConfig, config_file, fields)
    _run(lambda: train_spin(data, model, _out_dir(out, "spin"), config))


def _build_config(cls: Any, config_file: str | None, fields: dict[str, Any]) -> Any:
    from domplay.train.config import parse_config

    base: dict[str, Any] = {}
    if config_file is not None:
        from domplay.loading import load_yaml

        loaded = load_yaml(config_file, ConfigError)  # JSON is YAML too
        if not isinstance(loaded, dict):
            raise click.BadParameter(
                f"{config_file!r} holds {type(loaded).__name__}, not a mapping of config fields", param_hint="--config"
            )
        base = loaded
        if RUN_CONFIG_KEYS & set(loaded):  # a run's config.yaml: train as its loop does
            from domplay.config import load_config

            try:
                train = load_config(config_file).train
            except DomplayError as exc:
                raise click.UsageError(str(exc)) from exc
            base = (train.sft if cls.trainer_kind == "sft" else train.dpo).model_dump()
    full = fields.pop("full", None)
    if full:
        fields["finetune"] = "full"
    try:
        return parse_config(cls, base, **fields)
    except DomplayError as exc:
        raise click.UsageError(str(exc)) from exc


def _out_dir(out: str | None, method: str) -> Path:
    if out is not None:
        return Path(out)
    return DEFAULT_OUT_ROOT / f"{method}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _run(job: Callable[[], Any]) -> None:
    try:
        result = job()
    except DomplayError as exc:
        raise command_error(exc) from exc
    click.echo(
        json.dumps(
            {
                "method": result.method,
                "model_dir": str(result.model_dir),
                "rows": result.rows,
                "steps": result.steps,
                "final_loss": result.final_loss,
                "seconds": round(result.seconds, 3),
                "seconds_per_example": round(result.seconds_per_example, 4),
            }
        )
    )
