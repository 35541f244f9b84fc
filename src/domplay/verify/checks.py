"""The check kinds and the `Check` union that task files hold.

Each kind is a frozen pydantic model with a `kind` discriminator and
`evaluate(snapshot, ctx) -> CheckResult`; checks are pure functions of a Snapshot (they
never navigate), so they re-run offline on stored episodes. Kinds live by meaning in:

- `page_checks`: element (localization), attribute, content, element_present
- `value_checks`: url, answer
- `structure`: structure (tree edit distance)
- `state_check`: state (backend JSON facts; path syntax documented there)
- `code_check`: code (run in the sandbox)
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, TypeAdapter

from domplay.verify.base import CheckBase, CheckContext, CheckResult
from domplay.verify.code_check import CodeCheck
from domplay.verify.page_checks import AttributeCheck, ContentCheck, ElementCheck, ElementPresentCheck
from domplay.verify.state_check import StateCheck
from domplay.verify.structure import StructureCheck
from domplay.verify.textmatch import Normalize
from domplay.verify.value_checks import AnswerCheck, UrlCheck

Check = Annotated[
    ElementCheck
    | AttributeCheck
    | ContentCheck
    | StructureCheck
    | StateCheck
    | ElementPresentCheck
    | UrlCheck
    | AnswerCheck
    | CodeCheck,
    Field(discriminator="kind"),
]
"""Any check; pydantic picks the class from `kind`."""

CHECK_ADAPTER: TypeAdapter[Check] = TypeAdapter(Check)
"""Validates one check from plain data: `CHECK_ADAPTER.validate_python({"kind": "url", ...})`."""

CHECK_KINDS: tuple[str, ...] = (
    "element",
    "attribute",
    "content",
    "structure",
    "state",
    "element_present",
    "url",
    "answer",
    "code",
)

__all__ = [
    "CHECK_ADAPTER",
    "CHECK_KINDS",
    "AnswerCheck",
    "AttributeCheck",
    "Check",
    "CheckBase",
    "CheckContext",
    "CheckResult",
    "CodeCheck",
    "ContentCheck",
    "ElementCheck",
    "ElementPresentCheck",
    "Normalize",
    "StateCheck",
    "StructureCheck",
    "UrlCheck",
]
