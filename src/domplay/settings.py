"""`Settings`: the base of every component config (frozen pydantic, unknown keys refused).

Limits are declared as field constraints (`Field(ge=1)`), never checked by hand. A bad
value raises one error type, `ConfigError`, whose message names the class, the field,
the value given and what the field accepts, e.g.::

    ConfigError: invalid PolicyConfig: max_new_tokens=4: Input should be greater than or equal to 8
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from domplay.errors import ConfigError


def describe(name: str, exc: ValidationError) -> str:
    """One clause per problem of a failed validation: `field=value: what is accepted`."""
    problems = []
    for err in exc.errors():
        msg = err["msg"].removeprefix("Value error, ")
        where = ".".join(str(p) for p in err["loc"])
        problems.append(f"{where}={err.get('input')!r}: {msg}" if where else msg)
    return f"invalid {name}: {'; '.join(problems)}"


class Settings(BaseModel):
    """A component's config: frozen, typo-proof, validated on construction into ConfigError."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ConfigError(describe(type(self).__name__, exc)) from None

    # Nested configs are validated by pydantic's core, not through this __init__, so an error deep in
    # a run config keeps its full path (`policy.max_new_tokens`) and is converted once, at the top.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise ConfigError(describe(cls.__name__, exc)) from None
