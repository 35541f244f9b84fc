"""Online DPO with real callables: the policy samples on fixed prompts, a rule verifies, pairs train it."""

import json
from pathlib import Path

import pytest

from domplay.llm.base import GenerationParams
from domplay.llm.load import load_model
from domplay.train.config import DPOTrainConfig
from domplay.train.online import SUMMARY_NAME, OnlineConfig, final_model, run_iterative
from domplay.train.runtime import read_record

from .conftest import ACTION_IDS, preference_rows

SAMPLES_PER_PROMPT = 1
PROMPTS = [row["prompt"] for row in preference_rows()]
SAMPLING = GenerationParams(temperature=1.0, max_new_tokens=8, n=SAMPLES_PER_PROMPT, seed=0)


def sample(model_dir: Path) -> list[dict]:
    """Episodes: each prompt's sampled completions, verified by the rule 'the completion is click(<id>)'."""
    model = load_model(f"hf:{model_dir}", constrained=False)
    episodes = []
    for action_id, prompt, completions in zip(ACTION_IDS, PROMPTS, model.generate(PROMPTS, SAMPLING)):
        for completion in completions:
            success = completion.text.strip() == f"click({action_id})"
            episodes.append({"prompt": prompt, "target": f"click({action_id})", "text": completion.text,
                             "success": success})
    return episodes


def build_pairs(episodes: list[dict]) -> list[dict]:
    """Each failed sample is rejected against the reference action (SPIN-style pairs)."""
    return [{"prompt": e["prompt"], "chosen": [{"role": "assistant", "content": e["target"]}],
             "rejected": [{"role": "assistant", "content": e["text"] or "stop()"}], "task": e["target"]}
            for e in episodes if not e["success"]]


@pytest.mark.slow
def test_two_iterations_each_train_from_the_previous_model(tmp_path):
    config = OnlineConfig(iterations=2, method="spin",
                          dpo=DPOTrainConfig(max_steps=1, batch_size=2, learning_rate=1e-3, max_length_tokens=96,
                                                         keep_adapter=False))
    iterations = run_iterative("embedded", sample, build_pairs, tmp_path, config)
    assert [it.index for it in iterations] == [0, 1]
    assert all(it.result is not None and it.pairs >= 1 for it in iterations), iterations
    first, second = iterations
    assert first.episodes == len(PROMPTS) * SAMPLES_PER_PROMPT
    assert second.model_in == str(first.result.model_dir)
    record = read_record(second.result.model_dir)
    assert record["method"] == "spin" and record["config"]["seed"] == 1
    assert record["reference_model_path"] == str(first.result.model_dir)  # SPIN: the previous round's model
    assert final_model(iterations, "embedded") == second.result.model_dir
    summary = json.loads((tmp_path / SUMMARY_NAME).read_text())
    assert [row["pairs"] for row in summary["iterations"]] == [first.pairs, second.pairs]


def test_too_few_pairs_stops_before_training(tmp_path, embedded_dir):
    iterations = run_iterative("embedded", lambda model_dir: [], build_pairs, tmp_path, OnlineConfig(iterations=3))
    assert len(iterations) == 1 and iterations[0].result is None
    assert iterations[0].stopped_reason == "0 pairs < min_pairs=1"
    assert final_model(iterations, "embedded") == embedded_dir
    assert not list(tmp_path.glob("iter_*"))
