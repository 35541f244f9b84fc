"""Names that transformers changed between the releases domplay supports.

transformers 5.24 renamed the key/value cache from `past_key_values` to `cache`: in a model's
forward() and generate() arguments, and on its outputs (the old names still work there, with a
deprecation warning). domplay passes and reads whichever name the installed release uses.
"""

from __future__ import annotations

import inspect
from typing import Any


def cache_kwarg(module: Any) -> str:
    """The name `module.forward` (and generate()) takes a precomputed cache under."""
    return "cache" if "cache" in inspect.signature(module.forward).parameters else "past_key_values"


def output_cache(output: Any) -> Any:
    """The key/value cache a forward pass with `use_cache=True` returned."""
    cache = getattr(output, "cache", None)
    return cache if cache is not None else output.past_key_values
