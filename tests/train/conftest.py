"""Tiny training data shared by the trainer tests: short action prompts, a few rows, repeated steps."""

from __future__ import annotations

import pytest

ACTION_IDS = (3, 7)


def _prompt(action_id: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f'[{action_id}] button "Buy". Click it. Reply with one action.'}]


def sft_rows() -> list[dict]:
    """Prompt/completion rows with provenance columns the trainer must drop."""
    return [
        {
            "prompt": _prompt(i),
            "completion": [{"role": "assistant", "content": f"click({i})"}],
            "task_id": f"task-{i}",
            "template": "buy",
            "seed": i,
        }
        for i in ACTION_IDS
    ]


def preference_rows() -> list[dict]:
    """Prompt/chosen/rejected rows with provenance columns."""
    return [
        {
            "prompt": _prompt(i),
            "chosen": [{"role": "assistant", "content": f"click({i})"}],
            "rejected": [{"role": "assistant", "content": 'goto("http://example.com")'}],
            "task_id": f"task-{i}",
            "episode_chosen": f"e{i}a",
            "episode_rejected": f"e{i}b",
        }
        for i in ACTION_IDS
    ]


@pytest.fixture(scope="session")
def embedded_dir():
    """The embedded model's converted directory (converted once per machine)."""
    from domplay.llm.embedded import embedded_model_dir

    return embedded_model_dir()
