"""Gymnasium spaces for text-based web envs: observations are `Observation`s, actions strings."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from domplay.env.actions import ACTION_TYPES, format_action
from domplay.env.observation import Observation


class ObservationSpace(gym.Space[Observation]):
    """The space of `Observation` values (text pages of any length)."""

    def __init__(self, seed: int | None = None):
        super().__init__(shape=None, dtype=None, seed=seed)

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def contains(self, x: Any) -> bool:
        return isinstance(x, Observation)

    def sample(self, mask: Any = None, probability: Any = None) -> Observation:
        n = int(self.np_random.integers(0, 1000))
        return Observation(url=f"http://127.0.0.1/{n}", title="", elements=(), text=f"URL: /{n}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObservationSpace)

    def __repr__(self) -> str:
        return "ObservationSpace()"


class ActionSpace(gym.Space[str]):
    """Action strings (`click(12)`); `step` also accepts action dataclasses.

    `sample()` draws syntactically valid actions with small ids, which may or may not
    exist on the current page: exactly what an untrained agent produces.
    """

    def __init__(self, max_id: int = 50, seed: int | None = None):
        super().__init__(shape=None, dtype=None, seed=seed)
        self.max_id = max_id

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def contains(self, x: Any) -> bool:
        return isinstance(x, (str, *ACTION_TYPES))

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        from domplay.env import actions as A

        rng = self.np_random
        i = int(rng.integers(1, self.max_id + 1))
        kind = int(rng.integers(0, 5))
        choices: list[A.Action] = [A.Click(i), A.Fill(i, "test"), A.Scroll("down"), A.Press(i, "Enter"), A.Back()]
        action = choices[kind]
        return format_action(action)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ActionSpace) and other.max_id == self.max_id

    def __repr__(self) -> str:
        return f"ActionSpace(max_id={self.max_id})"
