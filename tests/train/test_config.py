import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from domplay.errors import ConfigError
from domplay.train.cli import train
from domplay.train.config import DPOTrainConfig, LoraSettings, SFTTrainConfig, parse_config


def test_learning_rate_defaults_follow_the_finetune_method():
    assert SFTTrainConfig().learning_rate == 2e-4
    assert SFTTrainConfig(finetune="full").learning_rate == 2e-5
    assert DPOTrainConfig().learning_rate == 5e-5
    assert DPOTrainConfig(finetune="full").learning_rate == 5e-7
    assert DPOTrainConfig(learning_rate=1e-3).learning_rate == 1e-3


def test_cpu_friendly_defaults():
    config = SFTTrainConfig()
    assert config.finetune == "lora" and config.gradient_checkpointing is False
    assert config.completion_only_loss is True and config.precision == "auto"
    assert "q_proj" in config.lora.target_modules and "down_proj" in config.lora.target_modules


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({"batch_size": 0}, "batch_size=0"),
        ({"learning_rate": 3.0}, "learning_rate=3.0"),
        ({"finetune": "qlora"}, "finetune='qlora'"),
        ({"lora": {"target_modules": []}}, "target_modules=[]"),
        ({"beta": -1.0}, "beta=-1.0"),
        ({"num_epochs": 0}, "num_epochs=0"),
        ({"max_lenght_tokens": 64}, "max_lenght_tokens=64"),
    ],
)
def test_bad_values_are_named_in_the_error(fields, shown):
    with pytest.raises(ConfigError) as info:
        parse_config(DPOTrainConfig, fields)
    assert shown in str(info.value)
    assert "DPOTrainConfig" in str(info.value)


def test_bad_finetune_does_not_also_report_a_missing_learning_rate():
    with pytest.raises(ConfigError) as info:
        parse_config(SFTTrainConfig, {"finetune": "qlora"})
    assert "learning_rate" not in str(info.value)


def test_sft_config_has_no_beta_and_configs_are_frozen():
    with pytest.raises(ConfigError, match=r"beta=0\.1: Extra inputs are not permitted"):
        SFTTrainConfig(beta=0.1)
    with pytest.raises(ValidationError):
        LoraSettings().r = 4


def test_overrides_win_over_the_file_dict_and_none_means_unset():
    config = parse_config(SFTTrainConfig, {"batch_size": 2, "seed": 5}, batch_size=8, seed=None)
    assert (config.batch_size, config.seed) == (8, 5)


def test_cli_reports_a_bad_option_value(tmp_path):
    data = tmp_path / "sft.jsonl"
    data.write_text("{}\n")
    result = CliRunner().invoke(train, ["sft", "--data", str(data), "--batch-size", "0"])
    assert result.exit_code == 2
    assert "batch_size=0" in result.output


def test_cli_reads_a_config_file_and_rejects_unknown_fields(tmp_path):
    data = tmp_path / "pairs.jsonl"
    data.write_text("{}\n")
    conf = tmp_path / "dpo.yaml"
    conf.write_text("beta: 0.2\nbetta: 0.3\n")
    result = CliRunner().invoke(train, ["dpo", "--data", str(data), "--config", str(conf)])
    assert result.exit_code == 2
    assert "betta=0.3" in result.output


def test_trls_option_names_are_accepted_as_aliases():
    trl_style = {
        "num_train_epochs": 2,
        "per_device_train_batch_size": 8,
        "gradient_accumulation_steps": 2,
        "max_length": 512,
        "lr_scheduler_type": "cosine",
    }
    config = SFTTrainConfig(**trl_style)
    assert (config.num_epochs, config.batch_size, config.grad_accum_steps) == (2, 8, 2)
    assert (config.max_length_tokens, config.lr_scheduler) == (512, "cosine")
    assert parse_config(DPOTrainConfig, {"per_device_train_batch_size": 2}).batch_size == 2
    with pytest.raises(ConfigError, match="'num_train_epochs' is TRL's name for 'num_epochs'; give one of them"):
        SFTTrainConfig(num_train_epochs=2, num_epochs=3)


def test_a_run_config_takes_trls_names_in_its_train_sections():
    from domplay.config import load_config

    config = load_config(overrides={"train": {"sft": {"per_device_train_batch_size": 2, "num_train_epochs": 3}}})
    assert config.train.sft.batch_size == 2 and config.train.sft.num_epochs == 3
