"""Deterministic selection under caps: which rows survive does not depend on input order."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from domplay.agent.episode import Episode
from domplay.errors import ConfigError
from domplay.tasks.model import Task

T = TypeVar("T")


GroupCap = tuple[Callable[[T], Hashable | None], int | None]
"""(group key of an item, most items kept per group)."""


def capped(items: Sequence[T], order: Callable[[T], tuple], caps: Sequence[GroupCap], seed: int) -> tuple[list[T], int]:
    """Keep items while every group's count is under its cap; return (kept, dropped).

    Items are sorted by `order` (content, not arrival), shuffled with `seed`, and taken in
    that order, so a cap keeps a seeded random sample of each group. A group key of None
    means the item belongs to no group for that cap. Kept items come back in `order`.
    """
    ranked = sorted(items, key=order)
    random.Random(seed).shuffle(ranked)
    counts: list[Counter] = [Counter() for _ in caps]
    kept: list[T] = []
    for item in ranked:
        keys = [key(item) for key, _ in caps]
        if any(
            k is not None and cap is not None and counts[i][k] >= cap
            for i, (k, (_, cap)) in enumerate(zip(keys, caps, strict=True))
        ):
            continue
        for i, k in enumerate(keys):
            if k is not None:
                counts[i][k] += 1
        kept.append(item)
    return sorted(kept, key=order), len(ranked) - len(kept)


def dedupe(items: Sequence[T], order: Callable[[T], tuple], key: Callable[[T], Hashable]) -> tuple[list[T], int]:
    """The first item (in `order`) of each key; return (kept, duplicates dropped)."""
    seen: set[Hashable] = set()
    kept = []
    for item in sorted(items, key=order):
        k = key(item)
        if k not in seen:
            seen.add(k)
            kept.append(item)
    return kept, len(items) - len(kept)


def task_of(episode: Episode, tasks: dict[str, Task]) -> Task:
    task = tasks.get(episode.task_id)
    if task is None:
        raise ConfigError(
            f"episode {episode.id} is of task {episode.task_id!r}, which is not among the "
            f"{len(tasks)} tasks given; pass every task the episodes refer to (store.tasks())"
        )
    return task


def is_heldout(task: Task) -> bool:
    return task.provenance.split == "heldout"
