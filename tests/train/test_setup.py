import re

import pytest
import torch

from domplay.errors import ConfigError, ModelError
from domplay.train.config import DPOTrainConfig, SFTTrainConfig
from domplay.train.record import git_revision
from domplay.train.setup import resolve_hardware, resolve_model_path


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only defaults")
def test_cpu_autocasts_to_bf16_only_with_hardware_bf16_and_cuda_cannot_be_forced():
    hardware = resolve_hardware(SFTTrainConfig())
    native = bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())
    assert (hardware.device, hardware.bf16, hardware.load_dtype) == ("cpu", native, "float32")
    assert not resolve_hardware(SFTTrainConfig(precision="float32")).bf16
    with pytest.raises(ConfigError, match="device='cuda'"):
        resolve_hardware(SFTTrainConfig(device="cuda"))


def test_bf16_keeps_float32_weights_on_cpu_lora_and_full_alike():
    for finetune in ("lora", "full"):
        hardware = resolve_hardware(DPOTrainConfig(device="cpu", precision="bfloat16", finetune=finetune))
        assert hardware.bf16 and hardware.load_dtype == "float32"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_is_picked_when_present():
    assert resolve_hardware(SFTTrainConfig()).device == "cuda"


def test_git_revision_is_a_sha_or_unknown():
    revision = git_revision()
    assert revision == "unknown" or re.fullmatch(r"[0-9a-f]{40}", revision)


def test_model_paths(tmp_path, embedded_dir):
    assert resolve_model_path("embedded") == embedded_dir
    assert resolve_model_path(f"hf:{embedded_dir}") == embedded_dir
    with pytest.raises(ModelError, match=r"config\.json missing"):
        resolve_model_path(tmp_path)


def test_progress_without_a_terminal_is_ten_plain_lines_on_stderr(capsys):
    from types import SimpleNamespace

    from domplay.train.setup import progress_callback

    callback = progress_callback("sft")
    state = SimpleNamespace(max_steps=25, global_step=0)
    callback.on_train_begin(None, state, None)
    for step in range(1, 26):
        state.global_step = step
        callback.on_log(None, state, None, logs={"loss": 2.0 / step})
        callback.on_step_end(None, state, None)
    callback.on_train_end(None, state, None)
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == ""  # stdout stays clean for the CLI's JSON line
    assert lines[0].startswith("sft: step 2/25, loss 1.000") and lines[-1].startswith("sft: step 25/25, loss 0.080")
    assert len(lines) == 13 and all("min left" in line for line in lines)
