"""Reading YAML and JSON that someone else wrote (task files, run configs, WebArena configs), within limits.

A 1.5 KB YAML file of nested aliases (an "alias bomb") expands to billions of values once anything
walks it; markup nested thousands deep exhausts Python's recursion; a file in another encoding fails
deep in a decoder. `load_yaml`, `load_json` and `load_jsonl` refuse each of these up front with the
caller's error type (`TaskFileError`, `ConfigError`) naming the file and the limit that was hit:

- the file is larger than `LoadLimits.max_bytes`, or is not UTF-8;
- a value is nested deeper than `max_depth` (checked while parsing, before Python's recursion limit);
- the document uses more than `max_aliases` YAML aliases, or holds more than `max_values` values
  once its aliases are expanded (counted without expanding them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field

from domplay.errors import DomplayError
from domplay.settings import Settings


class LoadLimits(Settings):
    """What a file domplay reads may hold; the defaults fit the largest task files and configs by far."""

    max_bytes: int = Field(64 * 1024 * 1024, ge=1, description="largest file read, in bytes")
    max_depth: int = Field(64, ge=1, le=200, description="deepest nesting of mappings and lists")
    max_aliases: int = Field(10_000, ge=0, description="YAML aliases (*name) in one document")
    max_values: int = Field(
        5_000_000, ge=1, description="values in a document with its YAML aliases expanded (an alias bomb has billions)"
    )


DEFAULT_LIMITS = LoadLimits()


def read_text(path: str | Path, error: type[DomplayError], limits: LoadLimits = DEFAULT_LIMITS) -> str:
    """The UTF-8 text of `path`; `error` when it is missing, too large or not UTF-8."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise error(f"{path}: {size} bytes is more than LoadLimits.max_bytes = {limits.max_bytes}; split the file")
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1].hex()
        raise error(f"{path}: not UTF-8 text (byte 0x{bad} at offset {exc.start}); save the file as UTF-8") from None


def load_yaml(
    path: str | Path, error: type[DomplayError], limits: LoadLimits = DEFAULT_LIMITS, text: str | None = None
) -> Any:
    """The YAML document in `path` (or `text`, read from it) as plain data, within `limits`."""
    text = read_text(path, error, limits) if text is None else text
    loader = _LimitedLoader(text, limits)
    try:
        data = loader.get_single_data()
    except _LimitHit as exc:
        raise error(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise error(f"{path}: invalid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    finally:
        loader.dispose()
    _check_shape(data, path, error, limits)
    return data


def load_json(path: str | Path, error: type[DomplayError], limits: LoadLimits = DEFAULT_LIMITS) -> Any:
    """The JSON document in `path` as plain data, within `limits`."""
    return parse_json(read_text(path, error, limits), str(path), error, limits)


def load_jsonl(
    path: str | Path, error: type[DomplayError], limits: LoadLimits = DEFAULT_LIMITS
) -> Iterator[tuple[int, Any]]:
    """(line number, value) for every non-blank line of a JSON Lines file, within `limits`."""
    for lineno, line in enumerate(read_text(path, error, limits).splitlines(), 1):
        if line.strip():
            yield lineno, parse_json(line, f"{path}: line {lineno}", error, limits)


def parse_json(text: str, where: str, error: type[DomplayError], limits: LoadLimits = DEFAULT_LIMITS) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{where}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise error(f"{where}: nested deeper than LoadLimits.max_depth = {limits.max_depth}") from None
    _check_shape(data, where, error, limits)
    return data


class _LimitHit(Exception):
    """A limit was hit while composing YAML (turned into the caller's error type)."""


class _LimitedLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader, counting depth and aliases while it composes the document's nodes."""

    def __init__(self, stream: str, limits: LoadLimits) -> None:
        super().__init__(stream)
        self.limits = limits
        self.depth = 0
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > self.limits.max_aliases:
                raise _LimitHit(
                    f"more than LoadLimits.max_aliases = {self.limits.max_aliases} YAML aliases; "
                    "write the values out instead of referring to anchors"
                )
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise _LimitHit(f"nested deeper than LoadLimits.max_depth = {self.limits.max_depth}")
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _check_shape(data: Any, where: str | Path, error: type[DomplayError], limits: LoadLimits) -> None:
    """Raise `error` when `data` is nested too deep or holds too many values with shared parts (YAML
    aliases) counted every time they are referred to; linear in the distinct containers."""
    sizes: dict[int, int] = {}

    def size(value: Any, depth: int) -> int:
        if not isinstance(value, (dict, list)):
            return 1
        if depth > limits.max_depth:
            raise error(f"{where}: nested deeper than LoadLimits.max_depth = {limits.max_depth}")
        known = sizes.get(id(value))
        if known is not None:
            return known
        children = value.items() if isinstance(value, dict) else enumerate(value)
        total = 1 + sum(size(k, depth + 1) + size(v, depth + 1) for k, v in children)
        if total > limits.max_values:
            raise error(
                f"{where}: more than LoadLimits.max_values = {limits.max_values} values once YAML aliases are "
                "expanded (an alias bomb?); write the values out or split the file"
            )
        sizes[id(value)] = total
        return total

    size(data, 1)
