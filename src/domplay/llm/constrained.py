"""Constrained action decoding: a local model can only write a valid action for this page.

A `Constraint` names the element ids on the current page, optionally which of them each
element action may name (only textboxes can be filled, only selects selected), the options
of each select and the directions the page can scroll. `ActionGrammar` is a small
character-level state machine over the action grammar of `domplay.env.actions`, in
canonical form:

    click(12)  fill(12, "text")  select(12, "option")  press(12, "Enter")
    scroll("down")  goto("url")  back()  answer("text")  stop()

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
from typing import TYPE_CHECKING

from domplay.env.actions import BY_NAME, KEYS
from domplay.errors import ConfigError

if TYPE_CHECKING:
    import torch

ID_ACTIONS = frozenset({"click", "fill", "select", "press"})
SCROLL_DIRECTIONS = ("up", "down")
CLOSE_RESERVE_TOKENS = 2
"""Tokens kept for `")` at the end of free text: inside free text with this many tokens
left, only tokens that close the string are allowed, so the action is always complete."""


@dataclass(frozen=True)
class Constraint:
    """What a constrained completion may contain on one page.

    ids: element ids shown in the observation; action_ids: for element actions (click, fill,
    select, press) the ids each may name, when narrower than `ids` (an action with no ids is
    not allowed); select_options: for select ids whose options are known, the allowed visible
    texts (other selects take free text); actions: the action names allowed (default all);
    scroll_directions: where the page can scroll (default both).
    """

    ids: frozenset[int]
    select_options: tuple[tuple[int, tuple[str, ...]], ...] = ()
    actions: frozenset[str] = field(default_factory=lambda: frozenset(BY_NAME))
    action_ids: tuple[tuple[str, frozenset[int]], ...] = ()
    scroll_directions: tuple[str, ...] = SCROLL_DIRECTIONS

    def __init__(self, ids: Iterable[int], select_options: Mapping[int, Iterable[str]] | None = None,
                 actions: Iterable[str] | None = None, action_ids: Mapping[str, Iterable[int]] | None = None,
                 scroll_directions: Iterable[str] = SCROLL_DIRECTIONS) -> None:
        ids = _ids(ids)
        chosen = frozenset(BY_NAME) if actions is None else frozenset(actions)
        unknown = sorted(chosen - set(BY_NAME))
        if unknown:
            raise ConfigError(f"Constraint actions {unknown} are unknown; use names from {sorted(BY_NAME)}")
        narrowed = {}
        for name, some in (action_ids or {}).items():
            if name not in ID_ACTIONS:
                raise ConfigError(f"Constraint action_ids names {name!r}; only {sorted(ID_ACTIONS)} take ids")
            narrowed[name] = frozenset(_ids(some))
        directions = tuple(d for d in SCROLL_DIRECTIONS if d in set(scroll_directions))
        if len(directions) != len(set(scroll_directions)):
            raise ConfigError(f"Constraint scroll_directions {tuple(scroll_directions)!r}; use {SCROLL_DIRECTIONS}")
        options = tuple(sorted((int(k), tuple(v)) for k, v in (select_options or {}).items()))
        object.__setattr__(self, "ids", frozenset(ids))
        object.__setattr__(self, "select_options", options)
        object.__setattr__(self, "actions", chosen)
        object.__setattr__(self, "action_ids", tuple(sorted(narrowed.items())))
        object.__setattr__(self, "scroll_directions", directions)

    def ids_for(self, action: str) -> frozenset[int]:
        """The ids element action `action` may name."""
        return dict(self.action_ids).get(action, self.ids)

    def allows(self, action: str) -> bool:
        """Whether `action` can be written at all (an element action needs an id to name, a scroll
        a direction to go)."""
        if action not in self.actions:
            return False
        if action == "scroll":
            return bool(self.scroll_directions)
        return action not in ID_ACTIONS or bool(self.ids_for(action))

    def to_json(self) -> dict:
        """A JSON-ready dict (for sending a constraint to a `domplay.llm.serve` endpoint)."""
        return {"ids": sorted(self.ids), "select_options": {str(k): list(v) for k, v in self.select_options},
                "actions": sorted(self.actions), "action_ids": {k: sorted(v) for k, v in self.action_ids},
                "scroll_directions": list(self.scroll_directions)}

    @classmethod
    def from_json(cls, data: Mapping) -> Constraint:
        """Inverse of `to_json`."""
        return cls(ids=data.get("ids", ()), actions=data.get("actions"),
                   select_options={int(k): v for k, v in (data.get("select_options") or {}).items()},
                   action_ids=data.get("action_ids"),
                   scroll_directions=data.get("scroll_directions", SCROLL_DIRECTIONS))

    def to_regex(self) -> str:
        """The same language as a regular expression (for servers with guided decoding, e.g. vLLM)."""
        def alts(ids: Iterable[int]) -> str:
            return "|".join(str(i) for i in sorted(ids))

        free = r'"[^"\\\x00-\x1f]*"'
        keys = "|".join(re.escape(_quote(k)) for k in sorted(KEYS))
        selectable = self.ids_for("select")
        opts = {k: "|".join(re.escape(_quote(o)) for o in v) for k, v in self.select_options if k in selectable}
        select = [rf"select\({k}, ?({o})\)" for k, o in opts.items() if o]
        other = alts(i for i in selectable if i not in opts)
        directions = "|".join(self.scroll_directions)
        forms = {
            "click": rf"click\(({alts(self.ids_for('click'))})\)",
            "fill": rf"fill\(({alts(self.ids_for('fill'))}), ?{free}\)",
            "select": "|".join(select + ([rf"select\(({other}), ?{free}\)"] if other else [])),
            "press": rf"press\(({alts(self.ids_for('press'))}), ?({keys})\)",
            "scroll": rf'scroll\("({directions})"\)',
            "goto": rf"goto\({free}\)", "back": r"back\(\)", "answer": rf"answer\({free}\)", "stop": r"stop\(\)",
        }
        usable = [forms[a] for a in sorted(self.actions) if forms[a] and self.allows(a)]
        return "|".join(f"(?:{a})" for a in usable)


def _ids(ids: Iterable[int]) -> list[int]:
    ids = list(ids)  # may be a generator; read once
    bad = [i for i in ids if isinstance(i, bool) or not isinstance(i, int) or i < 0]
    if bad:
        raise ConfigError(f"Constraint ids must be non-negative integers, got {bad[:5]}")
    return ids


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


# Pieces of an action after "name(": literals, an optional space, an element id, a quoted
# choice among known strings, or free quoted text.
LIT, SPACE, ID, CHOICE, FREE = "lit", "space", "id", "choice", "free"
PIECES: dict[str, tuple[tuple[str, str], ...]] = {
    "click": ((ID, ""), (LIT, ")")),
    "fill": ((ID, ""), (LIT, ","), (SPACE, ""), (FREE, ""), (LIT, ")")),
    "select": ((ID, ""), (LIT, ","), (SPACE, ""), (CHOICE, "option"), (LIT, ")")),
    "press": ((ID, ""), (LIT, ","), (SPACE, ""), (CHOICE, "key"), (LIT, ")")),
    "scroll": ((CHOICE, "direction"), (LIT, ")")),
    "goto": ((FREE, ""), (LIT, ")")),
    "back": ((LIT, ")"),),
    "answer": ((FREE, ""), (LIT, ")")),
    "stop": ((LIT, ")"),),
}

State = tuple[str, int, str, str]
"""(action or "" while the name is typed, piece index, text typed in this piece, chosen id)."""
START: State = ("", 0, "", "")
DONE: State = ("", -1, "", "")


class ActionGrammar:
    """The character-level state machine for one Constraint."""

    def __init__(self, constraint: Constraint) -> None:
        self.constraint = constraint
        # Per element action: the ids it may name, and their prefixes.
        self.id_strings = {a: frozenset(str(i) for i in constraint.ids_for(a)) for a in ID_ACTIONS}
        self.id_prefixes = {a: _prefixes(ids) for a, ids in self.id_strings.items()}
        names = [a for a in constraint.actions if constraint.allows(a)]
        self.heads = {f"{a}(": a for a in names}
        self.head_prefixes = _prefixes(self.heads)
        self.choices = {"key": _choice(KEYS), "direction": _choice(constraint.scroll_directions)}
        self.select_choices = {str(k): _choice(v) for k, v in constraint.select_options if v}
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
        action, index, typed, ident = state
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
            return self._next(action, index, ident) if typed == arg else (action, index, typed, ident)
        if kind == SPACE:
            after = self._next(action, index, ident)
            return after if char == " " else self.step(after, char)
        if kind == ID:
            if "0" <= char <= "9":
                return (action, index, typed + char, typed + char) if typed + char in self.id_prefixes[action] else None
            return self.step(self._next(action, index, typed), char) if typed in self.id_strings[action] else None
        if kind == CHOICE and (arg != "option" or ident in self.select_choices):
            options, prefixes = self.select_choices[ident] if arg == "option" else self.choices[arg]
            typed += char
            if typed in options:
                return self._next(action, index, ident)
            return (action, index, typed, ident) if typed in prefixes else None
        # free quoted text (also a select whose options are unknown)
        if not typed:
            return (action, index, '"', ident) if char == '"' else None
        if char == '"':
            return self._next(action, index, ident)
        return None if char == "\\" or ord(char) < 32 else state

    def in_free_text(self, state: State) -> bool:
        """Whether `state` is inside an open free-text string (whose length nothing bounds)."""
        action, index, typed, ident = state
        if not action or state == DONE:
            return False
        kind, arg = PIECES[action][index]
        free = kind == FREE or (kind == CHOICE and arg == "option" and ident not in self.select_choices)
        return free and typed == '"'

    @staticmethod
    def _next(action: str, index: int, ident: str) -> State:
        return DONE if index + 1 == len(PIECES[action]) else (action, index + 1, "", ident)


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
        self.texts = ["" if i in special else text[len(base):] for i, text in enumerate(decoded)]
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

    def __init__(self, tokens: TokenTexts, grammars: list[ActionGrammar | None], prompt_len: int,
                 max_new_tokens: int, top_k: int) -> None:
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
        return masked

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

    def _allowed(self, grammar: ActionGrammar, state: State | None, top: list[int],
                 forced: bool) -> list[int]:
        eos = self.tokens.eos_id
        if state is None or state == DONE:
            return [eos]
        fits = [t for t in top if self._fits(grammar, state, t, forced)]
        if fits:
            return fits
        key = (state, forced)
        if key not in grammar.scans:
            grammar.scans[key] = [t for t in self._candidates(grammar, state, forced)
                                  if self._fits(grammar, state, t, forced)] or [eos]
        return grammar.scans[key]

    def _candidates(self, grammar: ActionGrammar, state: State, forced: bool) -> list[int]:
        """Tokens worth checking in a full scan: those whose first character fits."""
        if forced and grammar.in_free_text(state):
            return self.tokens.with_quote
        firsts = [c for c in self.tokens.by_first if grammar.step(state, c) is not None]
        return [t for c in firsts for t in self.tokens.by_first[c]]
