"""Near misses of a path: the same actions with one thing wrong, so a check that passes them is too loose.

Cross-validation runs the mutants of the model's PASS paths against every check it compares;
`bench/check_precision.py` runs the mutants of a template's reference as episodes the oracle fails.
"""

from __future__ import annotations

from collections.abc import Sequence

from domplay.env import actions as A

WRONG_TEXT = "zzq"
"""Appended to a filled text (or replacing an answer) to make it wrong."""


def wrong_value(value: str) -> str:
    """Another value of the same kind: a number plus one, else the text with `WRONG_TEXT` added."""
    if value.strip().lstrip("$").replace(".", "", 1).isdigit():
        head, number = ("$", value.strip()[1:]) if value.strip().startswith("$") else ("", value.strip())
        return f"{head}{float(number) + 1:g}" if "." in number else f"{head}{int(number) + 1}"
    return f"{value} {WRONG_TEXT}"


def mutants(path: Sequence[str]) -> list[tuple[str, ...]]:
    """The path with its answer wrong, with each filled value wrong, and its answer alone (the right
    answer without the work); each mutant once, none equal to the path."""
    actions = [A.parse_action(a) for a in path]
    out: list[tuple[str, ...]] = []
    for i, act in enumerate(actions):
        if isinstance(act, A.Answer):
            out.append((*path[:i], A.format_action(A.Answer(wrong_value(act.text))), *path[i + 1 :]))
            if i > 0:
                out.append((path[i],))
        elif isinstance(act, A.Fill):
            out.append((*path[:i], A.format_action(A.Fill(act.target, wrong_value(act.text), act.nth)), *path[i + 1 :]))
    return [m for m in dict.fromkeys(out) if m != tuple(path)]
