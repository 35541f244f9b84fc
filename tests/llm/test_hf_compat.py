"""The cache names of the installed transformers release, read and passed without deprecation warnings."""

import pytest
import torch

from domplay.llm.hf_compat import cache_kwarg, output_cache


@pytest.fixture
def warnings_logged(monkeypatch):
    """Messages transformers logs once (its deprecation notices go through warning_once)."""
    from transformers.utils import logging

    logged: list[str] = []
    monkeypatch.setattr(
        logging.logging.Logger,
        "warning_once",
        lambda self, message, *args, **kwargs: logged.append(str(message)),
        raising=False,
    )
    return logged


def test_a_cache_read_and_passed_back_continues_the_sequence(tiny, warnings_logged):
    ids = torch.tensor([[5, 17, 33, 2, 41, 8]])
    with torch.inference_mode():
        whole = tiny(ids).logits[:, -1]
        cache = output_cache(tiny(ids[:, :4], use_cache=True))
        assert cache.get_seq_length() == 4
        rest = tiny(ids[:, 4:], use_cache=True, **{cache_kwarg(tiny): cache}).logits[:, -1]
    assert cache.get_seq_length() == 6  # the forward pass extended it in place
    assert torch.allclose(whole, rest, atol=1e-5)
    assert cache_kwarg(tiny) in ("cache", "past_key_values")
    assert not [m for m in warnings_logged if "deprecated" in m]
