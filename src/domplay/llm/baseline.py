"""A random policy: the floor every learned policy must beat."""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Sequence

from domplay.llm.base import Completion, GenerationParams, Message, check_constraints

_LINE = re.compile(r"^\[(\d+)\] (\w+) ", re.MULTILINE)
_ACTIONS_BY_ROLE = {
    "link": "click",
    "button": "click",
    "checkbox": "click",
    "radio": "click",
    "textbox": "fill",
    "combobox": "select",
}


class RandomModel:
    """A ChatModel that acts uniformly at random on the interactive elements in the prompt.

    It reads the `[id] role` lines of the last user message, picks one element, and clicks,
    fills ("test") or selects (its first option) it; one time in ten it answers "unknown".
    Its randomness is seeded by the prompt itself (and `seed`), so a prompt gets the same
    action whichever batch it is in: runs with it are exactly reproducible, resumed or not.
    """

    name = "random"

    def __init__(self, seed: int = 0):
        self.seed = seed

    def generate(
        self, prompts: Sequence[list[Message]], params: GenerationParams, constraints: Sequence[object] | None = None
    ) -> list[list[Completion]]:
        check_constraints(prompts, constraints)
        out = []
        for prompt in prompts:
            page = prompt[-1]["content"]
            rng = random.Random(zlib.crc32(page.encode()) ^ self.seed)
            out.append([self._one(page, rng) for _ in range(params.n)])
        return out

    @staticmethod
    def _one(page: str, rng: random.Random) -> Completion:
        elements = [(int(i), role) for i, role in _LINE.findall(page) if role in _ACTIONS_BY_ROLE]
        if not elements or rng.random() < 0.1:
            text = 'answer("unknown")'
        else:
            eid, role = rng.choice(elements)
            verb = _ACTIONS_BY_ROLE[role]
            if verb == "fill":
                text = f'fill({eid}, "test")'
            elif verb == "select":
                options = re.search(rf'^\[{eid}\] combobox .*?options=\["([^"]*)"', page, re.MULTILINE)
                text = f'select({eid}, "{options.group(1) if options else ""}")'
            else:
                text = f"click({eid})"
        return Completion(
            text=text, prompt_tokens=0, completion_tokens=len(text.split()), finish_reason="stop", seconds=0.0
        )
