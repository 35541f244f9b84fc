"""Supervised fine-tuning (rejection sampling on verified successes) with TRL + PEFT LoRA.

result = train_sft("runs/r1/sft.parquet", model="embedded", out_dir="runs/r1/model")
load_model(f"hf:{result.model_dir}")  # the next round's policy
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domplay.errors import ConfigError
from domplay.train.config import SFTTrainConfig
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


def train_sft(
    data: str | Path | Dataset | Sequence[dict[str, Any]],
    model: str | Path = "embedded",
    out_dir: str | Path = "checkpoints/sft",
    config: SFTTrainConfig | None = None,
) -> TrainResult:
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
        policy, tokenizer = load_trainable(base_path, hardware)
        # Batches of similar lengths: step examples range from ~300 to ~600 tokens, and random
        # batches of 4 padded ~13 % more tokens than they hold.
        args = SFTConfig(
            **trainer_arguments(config, hardware, Path(work)),
            completion_only_loss=config.completion_only_loss,
            train_sampling_strategy="group_by_length",
        )
        trainer = _labelled_head_trainer(SFTTrainer, config.first_token_weight)(
            model=policy,
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=lora_peft_config(config),
            callbacks=[progress_callback("sft")],
        )
        return finish_run("sft", trainer, config, len(dataset), str(model), out, {"base_model_path": str(base_path)})


DECODER_INPUTS = ("input_ids", "attention_mask", "position_ids")
MIN_SHARED_PREFIX_TOKENS = 16
"""Rows of a batch that begin with at least this many identical tokens (the system prompt) have
that prefix computed once; shorter common beginnings are not worth the second forward call."""


def labelled_token_loss(
    model: Any,
    inputs: dict[str, Any],
    num_items_in_batch: Any = None,
    bf16: bool = False,
    first_token_weight: float = 1.0,
) -> Any:
    """Next-token cross-entropy over the labelled positions, with the LM head applied to those alone.

    The same value as the model's own loss (mean over labels != -100, or sum / `num_items_in_batch`
    under gradient accumulation), but the vocabulary projection runs on the ~10 completion tokens of
    a step example instead of all ~450: on CPU that head (49k x 576 for SmolLM2) was a third of the
    training step. The rows' common beginning is computed once (see `_hidden_states`). `bf16` runs
    the forward under bfloat16 autocast (float32 weights stay the masters). `first_token_weight`
    weighs the first labelled token of each row (a step's action name) against 1 for the others;
    the result is then a weighted mean (a weighted sum / `num_items_in_batch` when given).
    """
    import torch

    labels = inputs["labels"]
    device = labels.device.type
    with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
        hidden, start = _hidden_states(model.get_decoder(), inputs)  # positions start.. of every row
        targets = labels[:, start + 1 :]
        keep = targets != -100
        logits = model.get_output_embeddings()(hidden[:, :-1][keep])
    if first_token_weight == 1.0:
        total = torch.nn.functional.cross_entropy(logits.float(), targets[keep], reduction="sum")
        count = keep.sum() if num_items_in_batch is None else num_items_in_batch
        return total / torch.as_tensor(count, device=total.device).clamp(min=1)
    losses = torch.nn.functional.cross_entropy(logits.float(), targets[keep], reduction="none")
    first = keep & (keep.long().cumsum(dim=1) == 1)  # (rows, positions): each row's first labelled token
    weights = 1.0 + (first_token_weight - 1.0) * first[keep].float()
    total = (losses * weights).sum()
    # Accumulated batches: their weighted token count, if rows carry tokens as this batch's do.
    count = weights.sum() if num_items_in_batch is None else num_items_in_batch * weights.sum() / keep.sum()
    return total / torch.as_tensor(count, device=total.device).clamp(min=1)


def _hidden_states(decoder: Any, inputs: dict[str, Any]) -> tuple[Any, int]:
    """The decoder's hidden states of every row from position `start` on, and `start`.

    Step examples begin with the same system prompt (~170 of ~600 tokens for the embedded model).
    That shared prefix runs once, for one row, and its keys and values serve every row as a
    key/value cache: the same values and gradients as running each row whole, for ~1.3x less
    work at batch 4. `start` is 0 when the rows share too little (or the cache is not a plain one).
    """
    import torch
    from transformers.cache_utils import DynamicCache, DynamicLayer

    from domplay.llm.hf_compat import cache_kwarg, output_cache

    plain = {k: inputs[k] for k in DECODER_INPUTS if k in inputs}
    ids, positions = inputs["input_ids"], inputs.get("position_ids")
    start = _shared_prefix_length(ids, inputs.get("attention_mask"), inputs["labels"])
    if start < MIN_SHARED_PREFIX_TOKENS:
        return decoder(**plain, use_cache=False).last_hidden_state, 0
    head = {"position_ids": positions[:1, :start]} if positions is not None else {}
    prefix = output_cache(decoder(input_ids=ids[:1, :start], use_cache=True, **head))
    if not all(type(layer) is DynamicLayer for layer in prefix.layers):
        return decoder(**plain, use_cache=False).last_hidden_state, 0  # e.g. sliding-window layers
    rows, length = ids.shape
    cache = DynamicCache()
    for index, layer in enumerate(prefix.layers):
        cache.update(layer.keys.expand(rows, -1, -1, -1), layer.values.expand(rows, -1, -1, -1), index)
    if positions is None:
        positions = torch.arange(length, device=ids.device).expand(rows, -1)
    rest = decoder(
        input_ids=ids[:, start:],
        attention_mask=inputs.get("attention_mask"),
        position_ids=positions[:, start:],
        use_cache=True,
        **{cache_kwarg(decoder): cache},
    )
    return rest.last_hidden_state, start


def _shared_prefix_length(ids: Any, mask: Any, labels: Any) -> int:
    """How many leading positions every row has alike (same tokens, none of them padding) and
    that predict no label (a label's predecessor must be among the positions computed per row)."""
    if ids.shape[0] < 2:
        return 0
    same = (ids == ids[:1]).all(dim=0)
    if mask is not None:
        same &= (mask == 1).all(dim=0)
    length = int(same.long().cumprod(dim=0).sum())
    labelled = (labels != -100).any(dim=0).nonzero()
    first_label = int(labelled[0]) if len(labelled) else ids.shape[1]
    return max(0, min(length, first_label - 1))


def _labelled_head_trainer(base: type, first_token_weight: float = 1.0) -> type:
    """`base` (TRL's SFTTrainer) with `labelled_token_loss` as its training loss.

    TRL's own loss computes log-probabilities, entropy and accuracy at every position; only the loss
    is used here. A model wrapped for distributed training (DDP, FSDP) keeps TRL's path, which goes
    through the wrapper's forward as those need (and has no first-token weight)."""

    class LabelledHeadTrainer(base):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            unwrapped = self.accelerator.unwrap_model(model)
            if return_outputs or unwrapped is not model or not hasattr(model, "get_decoder"):
                if first_token_weight != 1.0:
                    raise ConfigError(
                        f"first_token_weight={first_token_weight} needs domplay's loss, which a "
                        "wrapped (distributed) model does not use; set it to 1.0 there"
                    )
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            return labelled_token_loss(
                model, inputs, num_items_in_batch, bf16=self.args.bf16, first_token_weight=first_token_weight
            )

    return LabelledHeadTrainer
