"""ChatModel protocol and backends (see docs/architecture.md, "The words").

Importing this package is cheap: torch and transformers load only with a local backend.
"""

from domplay.llm.base import ChatModel, Completion, GenerationParams, Message
from domplay.llm.constrained import Constraint
from domplay.llm.load import load_model
from domplay.llm.scripted import ScriptedModel

__all__ = ["ChatModel", "Completion", "Constraint", "GenerationParams", "Message", "ScriptedModel", "load_model"]
