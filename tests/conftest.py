"""Fixtures shared across test packages."""

import pytest
import torch


@pytest.fixture(scope="module")
def tiny():
    """A randomly initialised two-layer Llama: real transformers code paths in milliseconds."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=97,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
    )
    return LlamaForCausalLM(config).float()
