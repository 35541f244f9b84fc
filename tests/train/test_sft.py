"""A real tiny LoRA SFT run on the embedded model (CPU), started from the CLI: loss falls,
weights change, the record is complete, the merged model loads and generates."""

import json

import pytest
from click.testing import CliRunner

from domplay.llm.base import GenerationParams
from domplay.llm.load import load_model
from domplay.train.cli import train
from domplay.train.config import SFTTrainConfig
from domplay.train.merge import merge_adapter
from domplay.train.record import RECORD_NAME, read_record, read_result

from .conftest import sft_rows

pytestmark = pytest.mark.slow

# What the CLI call below builds: a few rows repeated for several steps at a high rate, so the loss falls fast.
TINY = SFTTrainConfig(max_steps=4, batch_size=2, learning_rate=2e-3, max_length_tokens=96, seed=1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, embedded_dir):
    data = tmp_path_factory.mktemp("data") / "sft.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in sft_rows()))
    config = tmp_path_factory.mktemp("conf") / "sft.json"
    config.write_text(json.dumps({"learning_rate": 2e-3, "max_length_tokens": 96, "seed": 1}))
    out = tmp_path_factory.mktemp("sft") / "model"
    run = CliRunner().invoke(
        train,
        [
            "sft",
            "--data",
            str(data),
            "--model",
            "embedded",
            "--out",
            str(out),
            "--config",
            str(config),
            "--max-steps",
            "4",
            "--batch-size",
            "2",
        ],
    )
    assert run.exit_code == 0, run.output
    summary = json.loads(run.output.strip().splitlines()[-1])
    assert summary["model_dir"] == str(out) and summary["method"] == "sft"
    return read_result(out)


def test_loss_goes_down(trained):
    assert trained.steps == 4 and len(trained.losses) == 4
    assert trained.final_loss < trained.losses[0] * 0.5, trained.losses
    assert trained.rows == 2 and trained.examples_seen == 8
    assert trained.seconds > 0 and trained.seconds_per_example > 0


def test_merged_weights_differ_from_the_base(trained, embedded_dir):
    from safetensors.torch import load_file

    before, after = load_file(embedded_dir / "model.safetensors"), load_file(trained.model_dir / "model.safetensors")
    adapted = "model.layers.0.self_attn.q_proj.weight"
    assert before.keys() == after.keys()
    assert not (before[adapted] == after[adapted]).all()
    assert (before["model.norm.weight"] == after["model.norm.weight"]).all()  # not a LoRA target


def test_checkpoint_records_config_revision_and_metrics(trained):
    record = read_record(trained.model_dir)
    assert record["method"] == "sft" and record["config_class"] == "SFTTrainConfig"
    assert SFTTrainConfig.model_validate(record["config"]) == TINY
    assert record["git_revision"]  # a sha, or "unknown" outside a git checkout
    assert record["metrics"]["losses"] == list(trained.losses)
    assert record["metrics"]["final_loss"] == trained.final_loss
    assert (trained.adapter_dir / "adapter_config.json").is_file()
    assert (trained.adapter_dir / RECORD_NAME).is_file()


def test_merged_model_loads_with_the_transformers_backend_and_generates(trained):
    model = load_model(f"hf:{trained.model_dir}", constrained=False)
    [[completion]] = model.generate([sft_rows()[0]["prompt"]], GenerationParams(max_new_tokens=6))
    assert completion.completion_tokens >= 1
    # Trained to exhaustion on this very prompt, greedy decoding reproduces the target.
    assert completion.text.strip().startswith("click(3)"), completion.text


def test_saved_adapter_merges_to_the_same_weights(trained, tmp_path):
    from safetensors.torch import load_file

    merged = merge_adapter("embedded", trained.adapter_dir, tmp_path / "merged")
    ours, again = load_file(trained.model_dir / "model.safetensors"), load_file(merged / "model.safetensors")
    name = "model.layers.3.mlp.down_proj.weight"
    assert (ours[name] - again[name]).abs().max() < 1e-5
