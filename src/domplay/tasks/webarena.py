"""Import WebArena task configs (`config_files/*.json`, one task each, or a list) as domplay Tasks.

    tasks, report = import_webarena(["webarena/config_files/"],
                                    {"__SHOPPING__": "http://127.0.0.1:7770", "GITLAB": "http://127.0.0.1:8023"})
    print(report.summary())

How each part of a config maps:

- `task_id` -> `Task.id` "webarena:<task_id>"; `intent` -> intent; `start_url` placeholders
  (`__SHOPPING__`, ...) -> URLs from `url_map`; the site is the start URL's origin. Only the first
  tab of a `|AND|` start URL is used. Template fields, `sites` and every origin the task touches
  go to `provenance.extra`.
- `string_match` (the agent's answer): `exact_match` -> an `answer` check (exact);
  `must_include` -> one `answer` check (contains) per item, all required; a lone one-character
  item must be a whole token, as in WebArena; `fuzzy_match` needs a judge model: not verifiable
  by rules, so the task is reported in `ImportReport.needs_judge`.
- `url_match` -> a `url` check; `|OR|` alternatives; extra query keys allowed ("GOLD in PRED").
- `program_html` items on the final page (`"url": "last"`) -> one `code` check each (run in the
  sandbox), reproducing WebArena's rule exactly: the first (or `[i]`-th) element matching the
  locator's selector, its text or `value`, html-unescaped, lowercased, compared by `exact_match`
  or `must_include` (items with `|OR|`). Locators understood: "" (the whole page source),
  `document.querySelector(css)`, `document.querySelectorAll(css)[i]`, `document.getElementById(id)`,
  each with `.outerText`, `.innerText`, `.textContent`, `.value` or `.getAttribute(name)`.

Anything else (items read from another URL after the episode, `func:` locators, login state,
resets) is listed in the `ImportReport` with the task, the field path and why. A task with an
unmapped *verification* part is skipped unless `keep_partial=True`, because a partly checked
task turns failures into false successes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from domplay.errors import ConfigError, TaskFileError
from domplay.loading import load_json
from domplay.tasks.model import Difficulty, Provenance, Split, Task
from domplay.verify.base import validate_css
from domplay.verify.checks import AnswerCheck, Check, CodeCheck, ContentCheck, UrlCheck

TASK_ID_PREFIX = "webarena:"
OR_SEPARATOR = "|OR|"
AND_SEPARATOR = "|AND|"
PLACEHOLDER = re.compile(r"__[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*__")
"""WebArena's site placeholders: __SHOPPING__, __SHOPPING_ADMIN__, __GITLAB__, ..."""
KNOWN_FIELDS = frozenset(
    {
        "sites",
        "task_id",
        "require_login",
        "storage_state",
        "start_url",
        "geolocation",
        "intent_template",
        "instantiation_dict",
        "intent",
        "require_reset",
        "eval",
        "intent_template_id",
    }
)
EVAL_NOTE_FIELDS = ("reference_answer_raw_annotation", "string_note", "url_note", "annotation_note")
TEXT_PROPERTIES = ("outerText", "innerText", "textContent")
URL_NOTE_GOLD_IN_PRED = "GOLD in PRED"


@dataclass(frozen=True)
class UnmappedField:
    """One part of a WebArena config that has no domplay counterpart."""

    task: str
    """The WebArena task id (or where the config came from, when it has none)."""
    field: str
    """Path in the config, e.g. `eval.program_html[1].url`."""
    reason: str
    blocking: bool
    """True when it is part of the verification (the task is skipped unless keep_partial)."""


@dataclass(frozen=True)
class ImportReport:
    """What was imported and everything that could not be mapped."""

    imported: tuple[str, ...]
    """domplay task ids, in input order."""
    skipped: tuple[str, ...]
    """WebArena task ids not imported (see `unmapped` for why)."""
    unmapped: tuple[UnmappedField, ...]
    needs_judge: tuple[str, ...]
    """WebArena task ids whose answer can only be judged by a model (fuzzy_match)."""

    def for_task(self, task: str | int) -> tuple[UnmappedField, ...]:
        return tuple(u for u in self.unmapped if u.task == str(task))

    def summary(self) -> str:
        lines = [
            f"imported {len(self.imported)} WebArena tasks, skipped {len(self.skipped)}, "
            f"{len(self.needs_judge)} need a judge model, {len(self.unmapped)} unmapped fields"
        ]
        lines += [
            f"  task {u.task}: {u.field}: {u.reason}" + ("" if u.blocking else " (task kept)") for u in self.unmapped
        ]
        return "\n".join(lines)


# ---- input --------------------------------------------------------------------------------


def normalize_url_map(url_map: Mapping[str, str]) -> dict[str, str]:
    """Keys as `__NAME__` (also accepted: "NAME", "name", "shopping_admin"); URLs without trailing '/'."""
    out = {}
    for key, url in url_map.items():
        name = str(key).strip("_").upper()
        parts = urlsplit(str(url))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"url_map[{key!r}] = {url!r} must be an absolute http(s) URL, e.g. 'http://127.0.0.1:7770'"
            )
        out[f"__{name}__"] = str(url).rstrip("/")
    return out


def _read_json(path: Path) -> list[tuple[str, Any]]:
    data = load_json(path, TaskFileError)  # within loading.LoadLimits: size, encoding, nesting
    if isinstance(data, list):
        return [(f"{path}[{i}]", item) for i, item in enumerate(data)]
    return [(str(path), data)]


def _numeric_stem(path: Path) -> tuple[int, str]:
    return (int(path.stem), "") if path.stem.isdigit() else (1 << 62, path.name)


def load_configs(paths_or_dicts: Iterable[str | os.PathLike | Mapping[str, Any]]) -> list[tuple[str, Any]]:
    """(where it came from, config) for every config in files, directories (`*.json`) and dicts."""
    configs: list[tuple[str, Any]] = []
    for i, item in enumerate(paths_or_dicts):
        if isinstance(item, Mapping):
            configs.append((f"config #{i}", dict(item)))
            continue
        path = Path(item)
        if path.is_dir():
            for file in sorted(path.glob("*.json"), key=_numeric_stem):
                configs.extend(_read_json(file))
        elif path.is_file():
            configs.extend(_read_json(path))
        else:
            raise TaskFileError(f"{path}: no such WebArena config file or directory")
    return configs


# ---- locators -----------------------------------------------------------------------------

_JS_STRING = r"""(?P<q>['"`])(?P<arg>(?:\\.|(?!(?P=q)).)*)(?P=q)"""
_LOCATOR = re.compile(
    r"^\s*document\.(?P<fn>querySelector|querySelectorAll|getElementById)\(\s*" + _JS_STRING + r"\s*\)"
    r"(?:\[\s*(?P<index>\d+)\s*\])?"
    r"\.(?P<prop>outerText|innerText|textContent|value|getAttribute\(\s*(?P<aq>['\"])(?P<attr>[^'\"]+)(?P=aq)\s*\))"
    r"\s*;?\s*$",
    re.DOTALL,
)


@dataclass(frozen=True)
class Locator:
    """What a program_html locator reads: the whole page (css None) or one element's property."""

    css: str | None
    index: int = 0
    read: str = "text"
    """"text", "value", or "attr:<name>"."""


def parse_locator(locator: str) -> Locator:
    """The supported subset of WebArena's JavaScript locators; ValueError says what is not."""
    if not locator.strip():
        return Locator(css=None)
    if locator.startswith(("func:", "lambda:")):
        raise ValueError("runs a Python helper against the live site; domplay checks read only the snapshot")
    m = _LOCATOR.match(locator)
    if m is None:
        raise ValueError(
            "only document.querySelector(css) / querySelectorAll(css)[i] / getElementById(id) "
            "with .outerText/.innerText/.textContent/.value/.getAttribute(name) are supported"
        )
    arg = re.sub(r"\\(.)", r"\1", m["arg"])
    if m["fn"] == "querySelectorAll" and m["index"] is None:
        raise ValueError("querySelectorAll without [index] reads a NodeList, not one element")
    if m["fn"] != "querySelectorAll" and m["index"] is not None:
        raise ValueError(f"{m['fn']}(...) returns one element; it cannot be indexed")
    css = f'[id="{arg}"]' if m["fn"] == "getElementById" else arg
    try:
        validate_css(css)
    except ValueError as exc:
        raise ValueError(f"selector {css!r} is not CSS selectolax understands: {exc}") from None
    prop = m["prop"]
    read = "text" if prop in TEXT_PROPERTIES else "value" if prop == "value" else f"attr:{m['attr']}"
    return Locator(css=css, index=int(m["index"] or 0), read=read)


# WebArena's HTMLContentEvaluator, as sandboxed code over the final snapshot. `clean` is its
# clean_answer plus html.unescape and whitespace collapsing (rendered text vs textContent).
_PROGRAM_HTML_BODY = """
def clean(text):
    text = " ".join(html.unescape(text).split())
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\\"":
        text = text[1:-1]
    return text.lower()


def read(snapshot):
    page = snapshot["html"]
    if CSS is None:
        return page, "the page source"
    hits = query(page, CSS)
    if len(hits) <= INDEX:
        return None, f"{CSS!r}[{INDEX}]"
    element = hits[INDEX]
    if READ == "value":
        return element["attrs"].get("value", element["text"]), f"{CSS!r}[{INDEX}].value"
    if READ.startswith("attr:"):
        return element["attrs"].get(READ[5:], ""), f"{CSS!r}[{INDEX}].{READ[5:]}"
    return element["text"], f"{CSS!r}[{INDEX}]"


def check(snapshot):
    found, where = read(snapshot)
    if found is None:
        return False, f"no element {where} on the final page"
    found = clean(found)
    if EXACT is not None:
        return found == clean(EXACT), f"{where} is {found[:80]!r}; expected exactly {EXACT!r}"
    missing = [alts for alts in MUST_INCLUDE if not any(clean(alt) in found for alt in alts)]
    reason = f"{where} lacks {missing}" if missing else f"{where} includes all of {MUST_INCLUDE}"
    return (len(MUST_INCLUDE) - len(missing)) / len(MUST_INCLUDE), reason
"""


def program_html_code(locator: Locator, exact: str | None, must_include: list[list[str]]) -> str:
    """Source of the code check for one program_html item (constants first, then the rule)."""
    header = (
        f"import html\n\nCSS = {locator.css!r}\nINDEX = {locator.index!r}\nREAD = {locator.read!r}\n"
        f"EXACT = {exact!r}\nMUST_INCLUDE = {must_include!r}\n\n"
    )
    return header + _PROGRAM_HTML_BODY


# ---- one task -----------------------------------------------------------------------------


@dataclass
class _Mapping:
    """The state of mapping one config: its issues and the origins it touches."""

    task: str
    url_map: dict[str, str]
    issues: list[UnmappedField] = field(default_factory=list)
    origins: set[str] = field(default_factory=set)
    judge: dict[str, Any] = field(default_factory=dict)

    def issue(self, path: str, reason: str, blocking: bool = True) -> None:
        self.issues.append(UnmappedField(self.task, path, reason, blocking))

    def url(self, path: str, text: str) -> str | None:
        """`text` with placeholders replaced; None (and an issue) if one is unknown or it is not a URL."""
        unknown = sorted({p for p in PLACEHOLDER.findall(text) if p not in self.url_map})
        if unknown:
            self.issue(path, f"placeholder(s) {unknown} not in url_map (has {sorted(self.url_map)}); add them")
            return None
        url = PLACEHOLDER.sub(lambda m: self.url_map[m.group(0)], text.strip())
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self.issue(path, f"{text!r} does not resolve to an absolute http(s) URL")
            return None
        self.origins.add(f"{parts.scheme}://{parts.netloc}")
        return url

    @property
    def blocked(self) -> bool:
        return any(u.blocking for u in self.issues)


def _string_match(answers: Any, m: _Mapping) -> list[Check]:
    path = "eval.reference_answers"
    if not isinstance(answers, dict) or not answers:
        m.issue(path, f"string_match needs a reference_answers object, got {answers!r}")
        return []
    checks: list[Check] = []
    for key, value in answers.items():
        if key == "exact_match":
            expected = _text(value, f"{path}.exact_match", m)
            if expected is not None:
                checks.append(AnswerCheck(expected=expected, mode="exact"))
        elif key == "must_include" and isinstance(value, list) and value:
            texts = [_text(v, f"{path}.must_include[{i}]", m) for i, v in enumerate(value)]
            items = [t for t in texts if t is not None]
            for item in items:
                if len(items) == 1 and len(item.strip()) == 1:  # WebArena: a lone 1-char item is a token
                    checks.append(
                        ContentCheck(source="answer", mode="regex", expected=rf"(?<!\w){re.escape(item.strip())}(?!\w)")
                    )
                else:
                    checks.append(AnswerCheck(expected=item, mode="contains"))
        elif key == "fuzzy_match":
            m.judge["fuzzy_match"] = value
            m.issue(
                f"{path}.fuzzy_match", "fuzzy_match needs a judge model (meaning, not text); not verifiable by rules"
            )
        else:
            m.issue(f"{path}.{key}", f"unknown reference answer kind {key!r} with value {value!r}")
    return checks


def _text(value: Any, path: str, m: _Mapping) -> str | None:
    """An expected text: a string, or a number written as text; anything else (null, true, a list) is
    an issue of `m` (None), never the string "None"."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    m.issue(path, f"expected a string (or a number), got {value!r}")
    return None


def _url_match(ev: dict[str, Any], m: _Mapping) -> list[Check]:
    note = ev.get("url_note", URL_NOTE_GOLD_IN_PRED) or URL_NOTE_GOLD_IN_PRED
    if note != URL_NOTE_GOLD_IN_PRED:
        m.issue("eval.url_note", f"url_note {note!r} unknown; only {URL_NOTE_GOLD_IN_PRED!r} is mapped")
    raw = ev.get("reference_url")
    if not isinstance(raw, str) or not raw.strip():
        m.issue("eval.reference_url", f"url_match needs a reference_url, got {raw!r}")
        return []
    alts = [m.url(f"eval.reference_url[{i}]", alt) for i, alt in enumerate(raw.split(OR_SEPARATOR))]
    if None in alts:
        return []
    return [UrlCheck(expected=f" {OR_SEPARATOR} ".join(a for a in alts if a), ignore_extra_query=True)]


def _program_html_item(i: int, item: Any, m: _Mapping) -> Check | None:
    path = f"eval.program_html[{i}]"
    if not isinstance(item, dict):
        m.issue(path, f"expected an object, got {item!r}")
        return None
    extras = sorted(set(item) - {"url", "locator", "required_contents"})
    if extras:
        m.issue(f"{path}.{extras[0]}", f"{extras} (e.g. actions run before reading) are not supported")
        return None
    if item.get("url") != "last":
        m.issue(
            f"{path}.url",
            f"reads {item.get('url')!r} after the episode; domplay checks read only the "
            "final snapshot (needs pages fetched after the episode, see the report)",
        )
        return None
    try:
        locator = parse_locator(str(item.get("locator", "")))
    except ValueError as exc:
        m.issue(f"{path}.locator", f"{item.get('locator')!r}: {exc}")
        return None
    contents = item.get("required_contents")
    if isinstance(contents, dict) and set(contents) == {"exact_match"}:
        expected = _text(contents["exact_match"], f"{path}.required_contents.exact_match", m)
        return None if expected is None else CodeCheck(code=program_html_code(locator, expected, []))
    if (
        isinstance(contents, dict)
        and set(contents) == {"must_include"}
        and isinstance(contents["must_include"], list)
        and contents["must_include"]
    ):
        where = f"{path}.required_contents.must_include"
        texts = [_text(v, f"{where}[{i}]", m) for i, v in enumerate(contents["must_include"])]
        if None in texts:
            return None
        groups = [[alt.strip() for alt in str(v).split(OR_SEPARATOR)] for v in texts]
        return CodeCheck(code=program_html_code(locator, None, groups))
    m.issue(f"{path}.required_contents", f"only exact_match or must_include is supported, got {contents!r}")
    return None


def _checks(ev: Any, m: _Mapping) -> list[Check]:
    if not isinstance(ev, dict) or not isinstance(ev.get("eval_types"), list) or not ev["eval_types"]:
        m.issue("eval", "missing eval.eval_types")
        return []
    checks: list[Check] = []
    for kind in ev["eval_types"]:
        if kind == "string_match":
            checks += _string_match(ev.get("reference_answers"), m)
        elif kind == "url_match":
            checks += _url_match(ev, m)
        elif kind == "program_html":
            items = ev.get("program_html") or []
            if not items:
                m.issue("eval.program_html", "program_html is in eval_types but lists no items")
            checks += [c for i, item in enumerate(items) if (c := _program_html_item(i, item, m)) is not None]
        else:
            m.issue("eval.eval_types", f"unknown eval type {kind!r}")
    return checks


def _environment_issues(config: dict[str, Any], m: _Mapping) -> None:
    """Fields about the browser setup: domplay keeps the task and reports them."""
    if config.get("require_login"):
        m.issue(
            "storage_state",
            f"needs a logged-in browser ({config.get('storage_state')!r}); domplay tasks "
            "carry no login state: log the env in before the episode",
            blocking=False,
        )
    if config.get("require_reset"):
        m.issue(
            "require_reset",
            "the site must be reset before this task; domplay cannot reset an external site",
            blocking=False,
        )
    if config.get("geolocation") is not None:
        m.issue("geolocation", f"{config['geolocation']!r}: domplay envs set no geolocation", blocking=False)
    for unknown in sorted(set(config) - KNOWN_FIELDS):
        m.issue(unknown, "unknown WebArena config field", blocking=False)


def _start_url(config: dict[str, Any], m: _Mapping) -> str | None:
    raw = config.get("start_url")
    if not isinstance(raw, str) or not raw.strip():
        m.issue("start_url", f"missing start_url, got {raw!r}")
        return None
    tabs = [t.strip() for t in raw.split(AND_SEPARATOR)]
    for extra in range(1, len(tabs)):
        m.issue(f"start_url[{extra}]", f"extra tab {tabs[extra]!r}: domplay tasks start in one tab", blocking=False)
        m.url(f"start_url[{extra}]", tabs[extra])  # its origin is still one the task touches
    return m.url("start_url", tabs[0])


@dataclass(frozen=True)
class ImportOptions:
    """What the configs do not say; recorded on every imported task."""

    difficulty: Difficulty = "hard"
    """WebArena has no difficulty labels; its tasks are long-horizon on real applications."""
    split: Split | None = "heldout"
    """WebArena is an evaluation set: held out from training by default."""
    keep_partial: bool = False
    """Keep tasks whose verification is only partly mapped (marked in provenance.extra["unmapped"])."""


def map_config(
    config: Any, where: str, url_map: dict[str, str], options: ImportOptions = ImportOptions()
) -> tuple[Task | None, _Mapping]:
    """One WebArena config as a Task (None when it cannot be verified by rules), with its issues."""
    task_id = config.get("task_id") if isinstance(config, dict) else None
    m = _Mapping(task=str(task_id) if task_id is not None else where, url_map=url_map)
    if not isinstance(config, dict) or task_id is None or not str(config.get("intent", "")).strip():
        m.issue(
            "task_id" if isinstance(config, dict) else "",
            "not a WebArena task config (needs task_id, intent, start_url, eval)",
        )
        return None, m
    _environment_issues(config, m)
    start_url = _start_url(config, m)
    checks = _checks(config.get("eval"), m)
    if start_url is None or not checks or (m.blocked and not options.keep_partial):
        return None, m
    ev = config["eval"]
    extra: dict[str, Any] = {
        "webarena_task_id": task_id,
        "sites": config.get("sites", []),
        "origins": sorted(m.origins),
        "intent_template": config.get("intent_template"),
        "instantiation_dict": config.get("instantiation_dict"),
        "eval_notes": {k: ev[k] for k in EVAL_NOTE_FIELDS if ev.get(k)},
    }
    if m.judge:
        extra["needs_judge"] = m.judge
    if m.blocked:
        extra["unmapped"] = [f"{u.field}: {u.reason}" for u in m.issues if u.blocking]
    template_id = config.get("intent_template_id")
    try:
        task = Task(
            id=f"{TASK_ID_PREFIX}{task_id}",
            intent=str(config["intent"]).strip(),
            site=_origin(start_url),
            start_url=start_url,
            difficulty=options.difficulty,
            checks=checks,
            provenance=Provenance(
                proposer="webarena",
                split=options.split,
                extra=extra,
                template=None if template_id is None else str(template_id),
            ),
        )
    except ValidationError as exc:
        m.issue("", f"the mapped task is invalid: {exc.errors()[0]['msg']}")
        return None, m
    return task, m


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def import_webarena(
    paths_or_dicts: Iterable[str | os.PathLike | Mapping[str, Any]],
    url_map: Mapping[str, str],
    options: ImportOptions = ImportOptions(),
) -> tuple[list[Task], ImportReport]:
    """Map WebArena configs (files, directories of `*.json`, or dicts) to Tasks, with a report.

    Raises TaskFileError for an unreadable file and ConfigError for a bad `url_map`; problems
    inside configs never raise: they are in the report.
    """
    urls = normalize_url_map(url_map)
    tasks: list[Task] = []
    skipped: list[str] = []
    unmapped: list[UnmappedField] = []
    judge: list[str] = []
    seen: set[str] = set()
    for where, config in load_configs(paths_or_dicts):
        task, m = map_config(config, where, urls, options)
        if task is not None and task.id in seen:
            m.issue("task_id", f"duplicate task id {task.id!r} (from {where}); the first one is kept")
            task = None
        unmapped += m.issues
        judge += [m.task] if m.judge else []
        if task is None:
            skipped.append(m.task)
            continue
        seen.add(task.id)
        tasks.append(task)
    report = ImportReport(
        imported=tuple(t.id for t in tasks), skipped=tuple(skipped), unmapped=tuple(unmapped), needs_judge=tuple(judge)
    )
    return tasks, report
