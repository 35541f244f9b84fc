"""domplay.hardware: the device and its native bf16, which decide the 'auto' dtypes."""

from pathlib import Path

import torch

from domplay.hardware import default_device, fast_dtype, native_bf16


def test_auto_is_bf16_exactly_where_the_device_computes_it():
    device = default_device()
    assert device == ("cuda" if torch.cuda.is_available() else "cpu")
    assert fast_dtype("auto") == ("bfloat16" if native_bf16(device) else "float32")
    assert fast_dtype("float32") == "float32" and fast_dtype("bfloat16") == "bfloat16"


def test_cpu_native_bf16_follows_the_instruction_set():
    flags = Path("/proc/cpuinfo").read_text(encoding="utf-8").split()
    assert native_bf16("cpu") == ("amx_bf16" in flags or "avx512_bf16" in flags)
    assert not native_bf16("meta")
