"""Real tiny DPO and SPIN runs on the embedded model (CPU)."""

import math

import pytest

from domplay.train.config import DPOTrainConfig
from domplay.train.dpo import train_dpo
from domplay.train.record import read_record

from .conftest import preference_rows

pytestmark = pytest.mark.slow


def test_dpo_starts_at_log2_and_learns_the_preference(tmp_path, embedded_dir):
    from safetensors.torch import load_file

    config = DPOTrainConfig(max_steps=2, batch_size=2, learning_rate=1e-3, max_length_tokens=96)
    result = train_dpo(preference_rows(), "embedded", tmp_path / "dpo", config)
    # LoRA starts as a no-op, so policy == reference and the sigmoid loss is exactly log 2.
    assert result.losses[0] == pytest.approx(math.log(2), abs=1e-3)
    assert result.final_loss < result.losses[0] - 0.05, result.losses
    name = "model.layers.5.self_attn.v_proj.weight"
    assert not (
        load_file(embedded_dir / "model.safetensors")[name] == load_file(result.model_dir / "model.safetensors")[name]
    ).all()
    record = read_record(result.model_dir)
    assert record["method"] == "dpo" and record["config"]["beta"] == 0.1
    assert record["reference_model_path"] == record["base_model_path"]


def test_spin_trains_against_a_separate_opponent(tmp_path, embedded_dir):
    """SPIN: the reference is another model (the previous round's), loaded frozen beside the policy;
    the record names it, and the policy's weights move."""
    from safetensors.torch import load_file

    from domplay.train.config import SFTTrainConfig
    from domplay.train.sft import train_sft

    from .conftest import sft_rows

    opponent = train_sft(sft_rows(), "embedded", tmp_path / "previous", SFTTrainConfig(max_steps=1, batch_size=2))
    config = DPOTrainConfig(max_steps=2, batch_size=2, learning_rate=1e-3, max_length_tokens=96)
    result = train_dpo(
        preference_rows(), "embedded", tmp_path / "spin", config, reference=opponent.model_dir, method="spin"
    )
    assert all(math.isfinite(loss) for loss in result.losses)
    record = read_record(result.model_dir)
    assert record["method"] == "spin" and record["reference_model_path"] == str(opponent.model_dir)
    assert record["reference_model_path"] != record["base_model_path"]
    name = "model.layers.5.self_attn.v_proj.weight"
    assert not (
        load_file(embedded_dir / "model.safetensors")[name] == load_file(result.model_dir / "model.safetensors")[name]
    ).all()
