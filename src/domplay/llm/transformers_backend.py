"""A local Hugging Face model as a ChatModel: batched, left-padded chat generation.

bfloat16 on a GPU, float32 on CPU unless `dtype` says otherwise. Never downloads:
the model directory must exist locally.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, cast

from pydantic import BaseModel, Field

from domplay.errors import ConfigError, ModelError
from domplay.llm.base import Completion, GenerationParams, Message, check_constraints, truncate_at_stop
from domplay.llm.constrained import ActionGrammar, ActionLogitsProcessor, Constraint, TokenTexts
from domplay.llm.hf_compat import cache_kwarg, output_cache

SMALL_MODEL_PARAMS = 3_000_000_000
"""Models with fewer parameters get constrained decoding by default ("auto")."""
GRAMMAR_CACHE_SIZE = 256
MIN_PREFIX_TOKENS = 16
"""Shorter conversation prefixes are recomputed with the rest of the prompt: not worth a cache."""


class TransformersConfig(BaseModel, extra="forbid", frozen=True):
    """How a local model is loaded and batched."""

    path: str = Field(description="a local directory with config.json, weights and tokenizer")
    batch_size: int = Field(8, ge=1, description="prompts x samples per forward batch")
    device: str | None = Field(None, description='"cuda", "cpu", ...; None picks CUDA when present')
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto",
        description="auto = bfloat16 on a GPU, float32 on CPU. On a CPU with hardware bf16 "
        "(AVX512-BF16/AMX) bfloat16 is ~1.7x faster, but a row's output then depends slightly on the "
        "other rows of its batch, so seeded runs and their resumes no longer reproduce exactly",
    )
    constrained: bool | None = Field(None, description="enforce Constraints; None = on for small models")
    constraint_top_k: int = Field(64, ge=1, description="tokens checked per step before a full vocabulary scan")
    name: str | None = Field(None, description="model name in records; default: the directory name")
    cpu_threads: int | None = Field(
        None,
        ge=1,
        description="torch CPU threads for this process (a global "
        "setting); None keeps torch's default. 1 is much faster on a busy machine",
    )
    batch_call_tokens: int | None = Field(
        1024,
        ge=0,
        description="prompts are batched by length: a batch is "
        "split where padding its short prompts to its longest would cost more "
        "than a separate generate call, valued at this many prompt tokens (the "
        "decoding steps it repeats); None: batches in the given order",
    )
    prefix_cache: bool = Field(
        True,
        description="keep the key/value cache of each prompt's conversation "
        "before its last message (system prompt, few-shot demos) and reuse it",
    )
    prefix_cache_tokens: int = Field(
        65536,
        ge=0,
        description="most prefix tokens kept (least recently "
        "used dropped first); memory is this times the model's KV bytes per token",
    )


def _auto_dtype(device: str) -> str:
    return "bfloat16" if device.startswith("cuda") else "float32"


class TransformersModel:
    """ChatModel over a local transformers checkpoint."""

    def __init__(self, config: TransformersConfig) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(config.path).expanduser()
        if not (path / "config.json").is_file():
            raise ModelError(
                f"no model at {str(path)!r} (config.json missing); give a local "
                f"Hugging Face model directory, e.g. hf:/models/Qwen2.5-0.5B-Instruct"
            )
        self.config = config
        self.name = config.name or path.name
        if config.cpu_threads is not None:
            torch.set_num_threads(config.cpu_threads)
        self.device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = getattr(torch, config.dtype if config.dtype != "auto" else _auto_dtype(self.device))
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, local_files_only=True)
        self.model.to(self.device).eval()  # type: ignore[arg-type]  # transformers' .to stub takes no str device
        params = sum(p.numel() for p in self.model.parameters())
        self.constrained = config.constrained if config.constrained is not None else params < SMALL_MODEL_PARAMS
        self._tokens: TokenTexts | None = None
        self._grammars: OrderedDict[Constraint, ActionGrammar] = OrderedDict()
        self._prefixes: OrderedDict[tuple[int, ...], list[tuple]] = OrderedDict()
        self._stackable = True

    def generate(
        self,
        prompts: Sequence[list[Message]],
        params: GenerationParams,
        constraints: Sequence[Constraint | None] | None = None,
    ) -> list[list[Completion]]:
        """Return `params.n` completions for each prompt, in batches of `config.batch_size` rows."""
        import torch

        check_constraints(prompts, constraints)
        if params.seeds is not None and len(params.seeds) != len(prompts):
            raise ConfigError(f"GenerationParams.seeds has {len(params.seeds)} seeds for {len(prompts)} prompts")
        cons = list(constraints) if constraints is not None and self.constrained else [None] * len(prompts)
        if params.seed is not None:
            torch.manual_seed(params.seed)  # once per call: later batches continue the same stream
        # Greedy decoding gives n identical samples: decode once, repeat.
        samples = params.n if params.temperature > 0 else 1
        per_call = min(samples, self.config.batch_size)
        per_batch = max(1, self.config.batch_size // per_call)
        results: list[list[Completion]] = [[] for _ in prompts]
        lengths = [len(self.tokenizer(self._render(p), add_special_tokens=False)["input_ids"]) for p in prompts]
        for batch in length_batches(lengths, per_batch, self.config.batch_call_tokens):
            chunk, chunk_cons = [prompts[i] for i in batch], [cons[i] for i in batch]
            chunk_seeds = [params.seeds[i] for i in batch] if params.seeds is not None else None
            groups: list[list[Completion]] = [[] for _ in chunk]
            for first in range(0, samples, per_call):
                row_seeds = None
                if chunk_seeds is not None:
                    count = min(per_call, samples - first)
                    row_seeds = [_row_seed(seed, first + j) for seed in chunk_seeds for j in range(count)]
                done = self._generate_batch(chunk, params, min(per_call, samples - first), chunk_cons, row_seeds)
                for group, more in zip(groups, done, strict=True):
                    group.extend(more)
            for i, group in zip(batch, groups, strict=True):
                results[i] = group * (params.n // samples)
        return results

    def _generate_batch(
        self,
        prompts: list[list[Message]],
        params: GenerationParams,
        samples: int,
        constraints: list[Constraint | None],
        row_seeds: list[int] | None = None,
    ) -> list[list[Completion]]:
        import torch

        enc, cache = self._encode(prompts, samples)
        prompt_len = enc["input_ids"].shape[1]
        kwargs = self._sampling_kwargs(params, samples)
        if cache is not None:  # rows are already prompts x samples; the cache holds them all
            kwargs.update(num_return_sequences=1, **{cache_kwarg(self.model): cache})
        processor = None
        if any(c is not None for c in constraints):
            grammars = [self._grammar(c) if c is not None else None for c in constraints for _ in range(samples)]
            processor = ActionLogitsProcessor(
                self._token_texts(), grammars, prompt_len, params.max_new_tokens, self.config.constraint_top_k
            )
            kwargs["logits_processor"] = [processor]
        if row_seeds is not None and params.temperature > 0:
            # Per-row sampling: greedy decoding over Gumbel-perturbed logits samples exactly
            # from softmax(logits / T), with each row's noise from its own seeded generator.
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None, num_return_sequences=1)
            kwargs["logits_processor"] = kwargs.get("logits_processor", []) + [
                SeededGumbelSampler(row_seeds, params.temperature)
            ]
            if cache is None:
                enc = {k: v.repeat_interleave(samples, dim=0) for k, v in enc.items()}  # rows = prompts x samples
        started = time.perf_counter()
        with torch.inference_mode():
            out = self.model.generate(**enc, **kwargs)
        seconds = (time.perf_counter() - started) / max(1, len(prompts) * samples)
        new = out[:, prompt_len:].tolist()  # (prompts * samples, generated)
        prompt_counts = enc["attention_mask"].sum(dim=1).tolist()
        if len(prompt_counts) != len(prompts):  # rows were expanded to prompts x samples
            prompt_counts = prompt_counts[::samples]
        complete = processor.complete_rows(new) if processor is not None else [False] * len(new)
        results: list[list[Completion]] = []
        for i, count in enumerate(prompt_counts):
            rows = range(i * samples, (i + 1) * samples)
            results.append([self._completion(new[r], count, params, seconds, complete[r]) for r in rows])
        return results

    def _encode(self, prompts: list[list[Message]], samples: int) -> tuple[dict, object | None]:
        """Token ids and attention mask for `prompts`, and a key/value cache of their prefixes.

        A prompt's prefix is its conversation before the last message (the system prompt, and
        few-shot demos): it recurs across an episode's steps and, for the system prompt, across
        all episodes, so its cache is computed once and kept. With any prefix cached, each row
        is laid out as `padding, prefix, padding, rest` (the mask hides the padding, and
        generate() derives positions from the mask) and rows are already expanded to prompts x
        samples. Without one this is plain left padding and no cache.
        """
        import torch

        texts = [self._render(p) for p in prompts]

        def plain() -> tuple[dict, None]:
            return self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(
                self.device
            ), None

        if not (self.config.prefix_cache and self._stackable) or self.config.prefix_cache_tokens < MIN_PREFIX_TOKENS:
            return plain()
        ids = [self.tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
        prefixes = [self._prefix_of(p, row) for p, row in zip(prompts, ids, strict=True)]
        if not any(prefixes):
            return plain()
        layers = {prefix: self._prefix_layers(prefix) for prefix in set(prefixes) if prefix}
        if any(v is None for v in layers.values()):
            return plain()  # a cache layout this method cannot stack (e.g. sliding-window layers)
        rows = [(prefix, row[len(prefix) :]) for prefix, row in zip(prefixes, ids, strict=True) for _ in range(samples)]
        width = max(len(prefix) for prefix, _ in rows)
        rest = max(len(tail) for _, tail in rows)
        pad = self.tokenizer.pad_token_id
        input_ids, mask = [], []
        for prefix, tail in rows:
            lead, gap = width - len(prefix), rest - len(tail)
            input_ids.append([pad] * lead + list(prefix) + [pad] * gap + tail)
            mask.append([0] * lead + [1] * len(prefix) + [0] * gap + [1] * len(tail))
        cache = self._stack_cache([layers.get(prefix) for prefix, _ in rows], width)
        enc = {
            "input_ids": torch.tensor(input_ids, device=self.device),
            "attention_mask": torch.tensor(mask, device=self.device),
        }
        return enc, cache

    def _prefix_of(self, messages: list[Message], ids: list[int]) -> tuple[int, ...]:
        """The tokens of `messages[:-1]` when they are a proper token prefix of the whole prompt, else ()."""
        if len(messages) < 2:
            return ()
        head = self.tokenizer.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=False)
        prefix = self.tokenizer(head, add_special_tokens=False)["input_ids"]
        if MIN_PREFIX_TOKENS <= len(prefix) < len(ids) and ids[: len(prefix)] == prefix:
            return tuple(prefix)
        return ()

    def _prefix_layers(self, prefix: tuple[int, ...]) -> list[tuple] | None:
        """Per layer (keys, values) of `prefix`, computed on first use and kept; None if not stackable."""
        import torch
        from transformers.cache_utils import DynamicLayer

        layers = self._prefixes.pop(prefix, None)
        if layers is None:
            with torch.inference_mode():
                cache = output_cache(self.model(torch.tensor([prefix], device=self.device), use_cache=True))
            if not all(type(layer) is DynamicLayer for layer in getattr(cache, "layers", [None])):
                self._stackable = False  # don't try again for this model
                return None
            layers = [(layer.keys, layer.values) for layer in cache.layers]
        self._prefixes[prefix] = layers  # most recently used last
        while sum(len(k) for k in self._prefixes) > self.config.prefix_cache_tokens and len(self._prefixes) > 1:
            self._prefixes.popitem(last=False)
        return layers

    def _stack_cache(self, row_layers: list[list[tuple] | None], width: int):
        """One DynamicCache for the batch: each row's prefix keys/values, left-padded with zeros to `width`."""
        from transformers.cache_utils import DynamicCache

        sample = next(layers for layers in row_layers if layers is not None)
        cache = DynamicCache()
        for index, (keys, values) in enumerate(sample):
            cache.update(
                _stack_rows(row_layers, index, 0, keys, width), _stack_rows(row_layers, index, 1, values, width), index
            )
        return cache

    def _sampling_kwargs(self, params: GenerationParams, samples: int) -> dict:
        kwargs: dict = {
            "max_new_tokens": params.max_new_tokens,
            "num_return_sequences": samples,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if params.temperature > 0:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p, top_k=0)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if params.stop:
            kwargs.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
        return kwargs

    def _completion(
        self, tokens: list[int], prompt_tokens: int, params: GenerationParams, seconds: float, action_complete: bool
    ) -> Completion:
        eos_ids = self._eos_ids()
        end = next((i for i, t in enumerate(tokens) if t in eos_ids), None)
        used = tokens if end is None else tokens[: end + 1]
        text = cast(str, self.tokenizer.decode(used, skip_special_tokens=True))  # one sequence: one string
        text, stopped = truncate_at_stop(text, params.stop)
        finished = end is not None or stopped or action_complete or len(used) < params.max_new_tokens
        return Completion(
            text=text,
            prompt_tokens=int(prompt_tokens),
            completion_tokens=len(used),
            finish_reason="stop" if finished else "length",
            seconds=seconds,
        )

    def _render(self, messages: list[Message]) -> str:
        if self.tokenizer.chat_template is None:
            raise ModelError(
                f"the tokenizer of {self.name!r} has no chat template; use an instruct/chat "
                f"model or add chat_template.jinja to its directory"
            )
        return cast(str, self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))

    def _eos_ids(self) -> set[int]:
        eos = self.model.generation_config.eos_token_id
        ids = set(eos) if isinstance(eos, list) else ({eos} if eos is not None else set())
        return ids | {self.tokenizer.eos_token_id}

    def _token_texts(self) -> TokenTexts:
        if self._tokens is None:
            self._tokens = TokenTexts(self.tokenizer)
        return self._tokens

    def _grammar(self, constraint: Constraint) -> ActionGrammar:
        if not isinstance(constraint, Constraint):
            raise ConfigError(f"constraints must hold Constraint values or None, got {type(constraint).__name__}")
        grammar = self._grammars.pop(constraint, None) or ActionGrammar(constraint)
        self._grammars[constraint] = grammar  # most recently used last
        while len(self._grammars) > GRAMMAR_CACHE_SIZE:
            self._grammars.popitem(last=False)
        return grammar


def length_batches(lengths: Sequence[int], max_rows: int, call_tokens: int | None) -> list[list[int]]:
    """Indices of prompts with these token `lengths`, in batches of at most `max_rows` that cost least.

    A batch costs its rows x its longest prompt (left padding makes every row that long) plus
    `call_tokens` for being a call of its own. Sorted by length, the cheapest split into runs is found
    exactly by dynamic programming (a few dozen prompts at most). None: batches in the given order."""
    if call_tokens is None:
        return [list(range(i, min(i + max_rows, len(lengths)))) for i in range(0, len(lengths), max_rows)]
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    best = [0.0] + [math.inf] * len(order)  # best[k]: cheapest cost of the first k sorted prompts
    cut = [0] * (len(order) + 1)
    for end in range(1, len(order) + 1):
        for start in range(max(0, end - max_rows), end):
            cost = best[start] + (end - start) * lengths[order[end - 1]] + call_tokens
            if cost < best[end]:
                best[end], cut[end] = cost, start
    batches, end = [], len(order)
    while end > 0:
        batches.append(order[cut[end] : end])
        end = cut[end]
    return batches[::-1]


def _stack_rows(row_layers: list[list[tuple] | None], index: int, which: int, like, width: int):
    """Layer `index`'s keys (which=0) or values (1) of every row, zero-padded on the left to `width`."""
    import torch

    parts = []
    for layers in row_layers:
        have = layers[index][which] if layers is not None else like[:, :, :0]
        lead = like.new_zeros(like.shape[0], like.shape[1], width - have.shape[2], like.shape[3])
        parts.append(torch.cat([lead, have], dim=2))
    return torch.cat(parts, dim=0)


def _row_seed(prompt_seed: int, sample: int) -> int:
    return (prompt_seed * 1_000_003 + sample) % (2**63 - 1)


class SeededGumbelSampler:
    """A logits processor that turns greedy decoding into sampling with one RNG per row.

    argmax(logits / T + Gumbel noise) is a sample of softmax(logits / T). Drawing each row's
    noise from a generator seeded for that row makes a completion independent of the
    other rows in its batch. (top_p is not applied in this mode.)
    """

    def __init__(self, seeds: list[int], temperature: float):
        import torch

        self.temperature = temperature
        self.generators = [torch.Generator().manual_seed(s) for s in seeds]

    def __call__(self, input_ids, scores):
        import torch

        noise = torch.stack(
            [
                -torch.log(-torch.log(torch.rand(scores.shape[1], generator=g).clamp_(1e-20, 1.0)))
                for g in self.generators
            ]
        ).to(scores.device, scores.dtype)
        return scores / self.temperature + noise
