"""Constrained action decoding: a local model can only write a valid action for this page.

A `Constraint` names the elements the current page shows, as the targets an action may
write (ids such as `12`, names such as `"Log in"`, or a repeated name with its ordinal,
`"Edit", 2`), optionally which of them each element action may name (only textboxes can
be filled, only selects selected), the options of each select and the directions the
page can scroll. `ActionGrammar` is a small character-level state machine over the action
grammar, derived from the action classes of `domplay.env.actions` (`params`: which
argument is a target, free text or a closed choice), in canonical form:

    click("Log in")  click("Edit", 2)  fill(12, "text")  select("Size", "M")
    press("Search", "Enter")  scroll("down")  goto("url")  back()  answer("text")  stop()

`ActionLogitsProcessor` runs each candidate token's text through the machine and masks the
logits of tokens that would break the grammar; after the closing parenthesis only EOS is
allowed. Free text (fill text, answer text, goto url) is unconstrained until its closing
quote, except that backslashes and control characters are refused (they could make the
string literal invalid), and the quote is forced when the token budget runs out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from domplay.env import actions as A
from domplay.errors import ConfigError

if TYPE_CHECKING:
    import torch

ELEMENT_ACTIONS = frozenset(t.name for t in A.ELEMENT_ACTIONS)
CLOSE_RESERVE_TOKENS = 2
"""Tokens kept for `")` at the end of free text: inside free text with this many tokens
left, only tokens that close the string are allowed, so the action is always complete."""

TargetRef = tuple[int | str, int | None]
"""A target as (id or name, ordinal among same-named elements or None), see `A.format_target`."""
TargetLike = int | str | tuple
"""What a Constraint accepts for a target: an id, a name, or (name, ordinal)."""


@dataclass(frozen=True)
class Constraint:
    """What a constrained completion may contain on one page.

    targets: the elements shown in the observation, as an action may name them (in one
    action form, or mixed); action_targets: for element actions (click, fill, select, press)
    the targets each may name, when narrower than `targets` (an action with none is not
    allowed); select_options: for select targets whose options are known, the allowed
    visible texts (other selects take free text); actions: the action names allowed (default
    all); scroll_directions: where the page can scroll (default both).
    """

    targets: frozenset[TargetRef]
    select_options: tuple[tuple[TargetRef, tuple[str, ...]], ...] = ()
    actions: frozenset[str] = field(default_factory=lambda: frozenset(A.BY_NAME))
    action_targets: tuple[tuple[str, frozenset[TargetRef]], ...] = ()
    scroll_directions: tuple[str, ...] = A.SCROLL_DIRECTIONS

    def __init__(
        self,
        targets: Iterable[TargetLike],
        select_options: Mapping[TargetLike, Iterable[str]] | Iterable[tuple] | None = None,
        actions: Iterable[str] | None = None,
        action_targets: Mapping[str, Iterable[TargetLike]] | None = None,
        scroll_directions: Iterable[str] = A.SCROLL_DIRECTIONS,
    ) -> None:
        chosen = frozenset(A.BY_NAME) if actions is None else frozenset(actions)
        unknown = sorted(chosen - set(A.BY_NAME))
        if unknown:
            raise ConfigError(f"Constraint actions {unknown} are unknown; use names from {sorted(A.BY_NAME)}")
        narrowed = {}
        for name, some in (action_targets or {}).items():
            if name not in ELEMENT_ACTIONS:
                raise ConfigError(
                    f"Constraint action_targets names {name!r}; only {sorted(ELEMENT_ACTIONS)} take targets"
                )
            narrowed[name] = frozenset(_targets(some))
        directions = tuple(d for d in A.SCROLL_DIRECTIONS if d in set(scroll_directions))
        if len(directions) != len(set(scroll_directions)):
            raise ConfigError(f"Constraint scroll_directions {tuple(scroll_directions)!r}; use {A.SCROLL_DIRECTIONS}")
        pairs = select_options.items() if isinstance(select_options, Mapping) else (select_options or ())
        options = {_target(k): tuple(v) for k, v in pairs}
        object.__setattr__(self, "targets", frozenset(_targets(targets)))
        object.__setattr__(self, "select_options", tuple(sorted(options.items(), key=lambda kv: _text(kv[0]))))
        object.__setattr__(self, "actions", chosen)
        object.__setattr__(self, "action_targets", tuple(sorted(narrowed.items())))
        object.__setattr__(self, "scroll_directions", directions)

    def targets_for(self, action: str) -> frozenset[TargetRef]:
        """The targets element action `action` may name."""
        return dict(self.action_targets).get(action, self.targets)

    def allows(self, action: str) -> bool:
        """Whether `action` can be written at all (an element action needs a target to name, a
        scroll a direction to go)."""
        if action not in self.actions:
            return False
        if action == "scroll":
            return bool(self.scroll_directions)
        return action not in ELEMENT_ACTIONS or bool(self.targets_for(action))

    def to_json(self) -> dict:
        """A JSON-ready dict (for sending a constraint to a `domplay.llm.serve` endpoint);
        a target is `[id or name, ordinal or null]`."""

        def listed(refs: Iterable[TargetRef]) -> list[list]:
            return sorted(([t, n] for t, n in refs), key=lambda r: _text((r[0], r[1])))

        return {
            "targets": listed(self.targets),
            "select_options": [[t, n, list(v)] for (t, n), v in self.select_options],
            "actions": sorted(self.actions),
            "action_targets": {k: listed(v) for k, v in self.action_targets},
            "scroll_directions": list(self.scroll_directions),
        }

    @classmethod
    def from_json(cls, data: Mapping) -> Constraint:
        """Inverse of `to_json`."""
        return cls(
            targets=[tuple(t) for t in data.get("targets", ())],
            actions=data.get("actions"),
            select_options=[((t, n), v) for t, n, v in data.get("select_options") or ()],
            action_targets={k: [tuple(t) for t in v] for k, v in (data.get("action_targets") or {}).items()},
            scroll_directions=data.get("scroll_directions", A.SCROLL_DIRECTIONS),
        )

    def to_regex(self) -> str:
        """The same language as a regular expression (for servers with guided decoding, e.g. vLLM)."""
        grammar = ActionGrammar(self)
        usable = [grammar.regex(a) for a in sorted(self.actions) if self.allows(a)]
        return "|".join(f"(?:{a})" for a in usable if a)


def _target(value: TargetLike) -> TargetRef:
    target, nth = (value, None) if isinstance(value, (int, str)) else tuple(value)
    if isinstance(target, bool) or not isinstance(target, (int, str)) or (isinstance(target, int) and target < 0):
        raise ConfigError(f"Constraint targets are ids (non-negative integers) or names (strings), got {target!r}")
    if nth is not None and (isinstance(nth, bool) or not isinstance(nth, int) or nth < 1 or isinstance(target, int)):
        raise ConfigError(f"Constraint target {value!r}: an ordinal is an integer >= 1 after a name")
    return target, nth


def _targets(values: Iterable[TargetLike]) -> list[TargetRef]:
    return [_target(v) for v in values]


def _text(ref: TargetRef) -> str:
    return A.format_target(*ref)


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


# Pieces of an action after "name(", derived from its params: a literal, an optional space,
# or one argument of kind TARGET (written with its ordinal), OPTION, KEY, DIRECTION or FREE.
LIT, SPACE = "lit", "space"


def _pieces(cls: type) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for p in A.params(cls):
        if p.kind == A.NTH:
            continue  # part of the target's written form: "Edit", 2
        if out:
            out += [(LIT, ","), (SPACE, "")]
        out.append((p.kind, p.name))
    return (*out, (LIT, ")"))


PIECES: dict[str, tuple[tuple[str, str], ...]] = {name: _pieces(cls) for name, cls in A.BY_NAME.items()}
FREE_TEXT = r'"[^"\\\x00-\x1f]*"'

State = tuple[str, int, str, str]
"""(action or "" while the name is typed, piece index, text typed in this piece, chosen target text)."""
START: State = ("", 0, "", "")
DONE: State = ("", -1, "", "")


class ActionGrammar:
    """The character-level state machine for one Constraint."""

    def __init__(self, constraint: Constraint) -> None:
        self.constraint = constraint
        # Per element action: the written targets it may name, and their prefixes.
        self.target_texts = {a: frozenset(_text(t) for t in constraint.targets_for(a)) for a in ELEMENT_ACTIONS}
        self.target_choices = {a: (t, _prefixes(t)) for a, t in self.target_texts.items()}
        self.choices = {A.KEY: _choice(A.KEYS), A.DIRECTION: _choice(constraint.scroll_directions)}
        self.select_choices = {_text(k): _choice(v) for k, v in constraint.select_options if v}
        names = [a for a in constraint.actions if constraint.allows(a)]
        self.heads = {f"{a}(": a for a in names}
        self.head_prefixes = _prefixes(self.heads)
        # Caches filled by ActionLogitsProcessor; valid for one tokenizer's TokenTexts.
        self.moves: dict[tuple[State, int], State | None] = {}
        self.scans: dict[tuple[State, bool], list[int]] = {}

    def advance(self, state: State | None, text: str) -> State | None:
        """The state after reading `text`, or None if `text` leaves the grammar."""
        for char in text:
            if state is None:
                return None
            state = self.step(state, char)
        return state

    def step(self, state: State, char: str) -> State | None:
        action, index, typed, chosen = state
        if state == DONE:
            return None
        if not action:
            typed += char
            if typed in self.heads:
                return (self.heads[typed], 0, "", "")
            return ("", 0, typed, "") if typed in self.head_prefixes else None
        kind, arg = PIECES[action][index]
        if kind == LIT:
            typed += char
            if not arg.startswith(typed):
                return None
            return self._next(action, index, chosen) if typed == arg else (action, index, typed, chosen)
        if kind == SPACE:
            after = self._next(action, index, chosen)
            return after if char == " " else self.step(after, char)
        closed = self._closed(action, kind, chosen)
        if closed is not None:
            # One of known words, some of which may be prefixes of others (ids 1 and 12,
            # "Edit", 1 and "Edit", 12): a complete word ends when the next char cannot extend it.
            words, prefixes = closed
            if typed + char in prefixes:
                return (action, index, typed + char, chosen)
            if typed in words:
                return self.step(self._next(action, index, typed if kind == A.TARGET else chosen), char)
            return None
        # free quoted text (also a select whose options are unknown)
        if not typed:
            return (action, index, '"', chosen) if char == '"' else None
        if char == '"':
            return self._next(action, index, chosen)
        return None if char == "\\" or ord(char) < 32 else state

    def _closed(self, action: str, kind: str, chosen: str) -> tuple[frozenset[str], frozenset[str]] | None:
        """The words a piece of `kind` may be, or None for free text."""
        if kind == A.TARGET:
            return self.target_choices[action]
        if kind == A.OPTION:
            return self.select_choices.get(chosen)
        return self.choices.get(kind)

    def in_free_text(self, state: State) -> bool:
        """Whether `state` is inside an open free-text string (whose length nothing bounds)."""
        action, index, typed, chosen = state
        if not action or state == DONE:
            return False
        kind = PIECES[action][index][0]
        return kind not in (LIT, SPACE) and self._closed(action, kind, chosen) is None and typed == '"'

    def regex(self, action: str) -> str:
        """Action `action`'s part of `Constraint.to_regex`: targets that take the same
        arguments after them share one alternative."""
        pieces = PIECES[action]
        if not pieces or pieces[0][0] != A.TARGET:
            return re.escape(f"{action}(") + self._regex_rest(action, pieces, "")
        by_rest: dict[str, list[str]] = {}
        for target in sorted(self.target_texts[action]):
            by_rest.setdefault(self._regex_rest(action, pieces[1:], target), []).append(re.escape(target))
        return "|".join(f"{re.escape(action + '(')}(?:{'|'.join(ts)}){rest}" for rest, ts in by_rest.items())

    def _regex_rest(self, action: str, pieces: tuple[tuple[str, str], ...], chosen: str) -> str:
        out = []
        for kind, arg in pieces:
            if kind == LIT:
                out.append(re.escape(arg))
            elif kind == SPACE:
                out.append(" ?")
            else:
                closed = self._closed(action, kind, chosen)
                words = "|".join(re.escape(w) for w in sorted(closed[0])) if closed is not None else ""
                out.append(FREE_TEXT if closed is None else f"(?:{words})")
        return "".join(out)

    @staticmethod
    def _next(action: str, index: int, chosen: str) -> State:
        return DONE if index + 1 == len(PIECES[action]) else (action, index + 1, "", chosen)


def _prefixes(words: Iterable[str]) -> frozenset[str]:
    return frozenset(w[:i] for w in words for i in range(1, len(w) + 1))


def _choice(values: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    quoted = frozenset(_quote(v) for v in values)
    return quoted, _prefixes(quoted)


class TokenTexts:
    """The text each token id adds to a decoded string, computed once per tokenizer.

    Decoding a token after a fixed prefix token keeps the leading spaces that
    sentencepiece tokenizers drop when a token is decoded alone. Special tokens map to "".
    """

    def __init__(self, tokenizer) -> None:
        anchor = tokenizer.convert_tokens_to_ids(tokenizer.tokenize("a"))[:1]
        base = tokenizer.decode(anchor)
        size = len(tokenizer)
        decoded = tokenizer.batch_decode([anchor + [i] for i in range(size)])
        special = set(tokenizer.all_special_ids)
        self.texts = ["" if i in special else text[len(base) :] for i, text in enumerate(decoded)]
        self.eos_id = tokenizer.eos_token_id
        # Indexes that keep a full-vocabulary scan small: by first character, and the
        # tokens that contain a quote (the only ones that can close free text).
        self.by_first: dict[str, list[int]] = {}
        for i, text in enumerate(self.texts):
            if text:
                self.by_first.setdefault(text[0], []).append(i)
        self.with_quote = [i for i, text in enumerate(self.texts) if '"' in text]

    def text(self, token_id: int) -> str:
        return self.texts[token_id] if 0 <= token_id < len(self.texts) else ""


class ActionLogitsProcessor:
    """A transformers LogitsProcessor enforcing one ActionGrammar per row (None = free row).

    Rows are prompt-major: with `num_return_sequences=n`, row r belongs to prompt r // n.
    Per step, only the `top_k` best tokens of a row are checked; when none of them fits,
    the whole vocabulary is scanned once for that state and the result cached.
    """

    def __init__(
        self, tokens: TokenTexts, grammars: list[ActionGrammar | None], prompt_len: int, max_new_tokens: int, top_k: int
    ) -> None:
        self.tokens = tokens
        self.grammars = grammars
        self.prompt_len = prompt_len
        self.max_new_tokens = max_new_tokens
        self.top_k = top_k
        self.states: list[State | None] = [START if g is not None else None for g in grammars]

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        import torch

        generated = input_ids.shape[1] - self.prompt_len
        if generated > 0:
            self._consume(input_ids[:, -1].tolist())
        forced = self.max_new_tokens - generated <= CLOSE_RESERVE_TOKENS
        k = min(self.top_k, scores.shape[-1])
        top = torch.topk(scores, k, dim=-1).indices.tolist()  # (rows, k)
        masked = torch.full_like(scores, float("-inf"))
        for row, grammar in enumerate(self.grammars):
            state = self.states[row]
            if grammar is None:
                masked[row] = scores[row]
                continue
            allowed = self._allowed(grammar, state, top[row], forced)
            masked[row, allowed] = scores[row, allowed]
        return cast("torch.FloatTensor", masked)  # transformers' LogitsProcessor signature

    def complete_rows(self, generated: list[list[int]]) -> list[bool]:
        """After generation: whether each row's text is a complete action (its last token,
        which this processor never saw, is consumed here)."""
        if generated and generated[0]:
            self._consume([row[-1] for row in generated])
        return [state == DONE for state in self.states]

    def _consume(self, last_tokens: list[int]) -> None:
        for row, grammar in enumerate(self.grammars):
            state = self.states[row]
            if grammar is None or state is None or state == DONE:
                continue  # after DONE only EOS (then padding) follows
            self.states[row] = self._move(grammar, state, last_tokens[row])

    def _move(self, grammar: ActionGrammar, state: State, token: int) -> State | None:
        key = (state, token)
        if key not in grammar.moves:
            text = self.tokens.text(token)
            grammar.moves[key] = grammar.advance(state, text) if text else None
        return grammar.moves[key]

    def _fits(self, grammar: ActionGrammar, state: State, token: int, forced: bool) -> bool:
        after = self._move(grammar, state, token)
        if after is None:
            return False
        return not (forced and grammar.in_free_text(state) and grammar.in_free_text(after))

    def _allowed(self, grammar: ActionGrammar, state: State | None, top: list[int], forced: bool) -> list[int]:
        eos = self.tokens.eos_id
        if state is None or state == DONE:
            return [eos]
        fits = [t for t in top if self._fits(grammar, state, t, forced)]
        if fits:
            return fits
        key = (state, forced)
        if key not in grammar.scans:
            grammar.scans[key] = [
                t for t in self._candidates(grammar, state, forced) if self._fits(grammar, state, t, forced)
            ] or [eos]
        return grammar.scans[key]

    def _candidates(self, grammar: ActionGrammar, state: State, forced: bool) -> list[int]:
        """Tokens worth checking in a full scan: those whose first character fits."""
        if forced and grammar.in_free_text(state):
            return self.tokens.with_quote
        firsts = [c for c in self.tokens.by_first if grammar.step(state, c) is not None]
        return [t for c in firsts for t in self.tokens.by_first[c]]
