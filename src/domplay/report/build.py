"""`build_report(run_dir)`: one self-contained HTML file describing a run (`<run>/report.html`).

No external resources: charts are inline SVG drawn by `charts`, the trajectory viewer is a
little inline JS over embedded JSON, and a Content-Security-Policy forbids any fetch, so the
file can be mailed, archived, or opened offline. Works on a run at any point: after round 0
only, mid-round, or after a crash.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from domplay.data.records import PAIR_KINDS
from domplay.data.store import RunStore
from domplay.report import charts
from domplay.report.charts import Series
from domplay.report.collect import RoundRecord, RunData, check_run_dir, collect
from domplay.report.viewer import ViewerConfig, select_episodes
from domplay.rundir import STAGES, STAGES_ROUND0
from domplay.tasks.model import Difficulty

REPORT_FILE = "report.html"
_HERE = Path(__file__).parent
YIELD_COLUMNS = (
    ("episodes", "episodes"),
    ("heldout_episodes", "held-out (unused)"),
    ("invalid_episodes", "invalid"),
    ("successes", "verified successes"),
    ("failures", "failures"),
    ("success_rate", "success rate"),
    ("sft_candidates", "SFT candidates"),
    ("sft_below_min_score", "below min score"),
    ("sft_duplicates", "duplicates"),
    ("sft_capped", "capped"),
    ("sft_examples", "SFT examples"),
    *((f"pairs_{k}", f"{k} pairs") for k in PAIR_KINDS),
)
"""Yield-table columns in funnel order (AutoIF's data-yield table); unknown keys follow at the end."""
YIELD_FUNNEL = (
    ("episodes", "episodes"),
    ("successes", "verified successes"),
    ("sft_examples", "SFT examples"),
    *((f"pairs_{k}", f"{k} pairs") for k in PAIR_KINDS),
)


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def build_report(run_dir: str | Path, out: str | Path | None = None, config: ViewerConfig | None = None) -> Path:
    """Write the report of the run in `run_dir` (default `<run_dir>/report.html`) and return its path.

    Raises ConfigError when `run_dir` is not a run directory.
    """
    run_dir = Path(run_dir)
    check_run_dir(run_dir)
    config = config if config is not None else ViewerConfig()
    with RunStore(run_dir, read_only=True) as store:
        data = collect(store, run_dir)
        viewer = select_episodes(
            store,
            run_dir,
            [r.round for r in data.rounds],
            data.eval_episodes,
            {t.id for t in data.heldout_tasks},
            config,
        )
    html = render(data, viewer.as_json())
    path = Path(out) if out is not None else run_dir / REPORT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)  # a reader never sees half a report
    return path


def render(data: RunData, viewer_json: dict[str, Any]) -> str:
    env = Environment(loader=FileSystemLoader(_HERE), autoescape=select_autoescape(["html"]))
    template = env.get_template("template.html")
    return template.render(
        run=data,
        title=f"domplay run {data.run_dir.resolve().name}",
        generated=time.strftime("%Y-%m-%d %H:%M:%S"),
        status=status_line(data),
        charts=[Markup(c) for c in all_charts(data.rounds)],
        summary=summary_table(data),
        yield_table=yield_table(data.rounds),
        checkpoints=checkpoint_table(data.rounds),
        datasets=dataset_table(data.rounds),
        failures=failure_table(data.rounds),
        css=Markup((_HERE / "report.css").read_text(encoding="utf-8")),
        js=Markup((_HERE / "viewer.js").read_text(encoding="utf-8")),
        viewer_data=Markup(script_json(viewer_json)),
        left_out=viewer_json["left_out"],
    )


def script_json(value: Any) -> str:
    """JSON safe inside a <script> element: no `<`, `>` or `&` can end it early."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def status_line(data: RunData) -> str:
    if not data.rounds:
        return "The run has not finished any stage yet."
    last = data.rounds[-1]
    done = [r.round for r in data.rounds if r.finished]
    text = f"{len(data.rounds)} round(s) recorded (0 to {last.round}); finished: {done or 'none'}."
    if not last.finished:
        pending = [s for s, status in last.stages.items() if status != "done"]
        text += f" Round {last.round} is unfinished (stages not done: {', '.join(pending)})."
    return text


# -- charts ----------------------------------------------------------------------------------
def all_charts(rounds: Sequence[RoundRecord]) -> list[str]:
    evaluated = [r for r in rounds if r.eval is not None]
    no_eval = "no held-out evaluation stored yet"
    out = [
        charts.line_chart(
            "Held-out success: overall and by difficulty",
            [_rate_series("overall", evaluated, None, None), *_axis_series(evaluated, "difficulty")],
            x_label="round",
            y_format=charts.percent,
            y_max=1.0,
            empty_message=no_eval,
        ),
        charts.line_chart(
            "Held-out success by site",
            _axis_series(evaluated, "site"),
            x_label="round",
            y_format=charts.percent,
            y_max=1.0,
            empty_message=no_eval,
        ),
        charts.line_chart(
            "Held-out templates vs held-out seeds of seen templates",
            _axis_series(evaluated, "heldout kind"),
            x_label="round",
            y_format=charts.percent,
            y_max=1.0,
            empty_message=no_eval,
        ),
    ]
    with_yield = [r for r in rounds if r.yield_row]
    out.append(
        charts.bar_chart(
            "Data yield: episodes → verified successes → SFT examples → pairs",
            [f"round {r.round}" for r in with_yield],
            [Series(label, values=tuple(_num(r.yield_row, key) for r in with_yield)) for key, label in YIELD_FUNNEL],
            empty_message="no datasets built yet (round 0 only evaluates)",
        )
    )
    for name, label in (("sft", "SFT"), ("dpo", "DPO")):
        series = [
            Series(f"round {r.round}", points=tuple((i + 1.0, v) for i, v in enumerate(r.losses(name)))) for r in rounds
        ]
        out.append(
            charts.line_chart(
                f"{label} training loss",
                series,
                x_label="logged step",
                empty_message=f"no {label} checkpoint with logged losses yet",
            )
        )
    order = {s: i for i, s in enumerate((*STAGES_ROUND0, *STAGES))}
    stages = sorted({s for r in rounds for s in r.stage_seconds}, key=lambda s: (order.get(s, len(order)), s))
    longest = max((sum(r.stage_seconds.values()) for r in rounds), default=0.0)
    out.append(
        charts.bar_chart(
            "Time per stage",
            [f"round {r.round}" for r in rounds],
            [Series(s, values=tuple(r.stage_seconds.get(s) for r in rounds)) for s in stages],
            stacked=True,
            y_format=charts.duration_format(longest),
            y_nice=charts.nice_max_seconds,
            empty_message="no stage finished yet",
        )
    )
    return out


_DIFFICULTY = {d: i for i, d in enumerate(get_args(Difficulty))}
"""Difficulties in their natural order (easy, medium, hard) rather than alphabetically."""


def _rate_series(name: str, rounds: Sequence[RoundRecord], axis: str | None, key: str | None) -> Series:
    """Success rate per evaluated round: overall (axis None) or of one `key` along `axis`."""
    points = []
    for r in rounds:
        if r.eval is None:
            continue
        value: float | None
        if axis is None:
            value = r.eval.success_rate
        else:
            value = r.eval.by.get(axis, {}).get(key) if key is not None else None
        if value is not None:
            points.append((float(r.round), float(value)))
    return Series(name, points=tuple(points))


def _axis_series(rounds: Sequence[RoundRecord], axis: str) -> list[Series]:
    keys = sorted(
        {k for r in rounds if r.eval is not None for k in r.eval.by.get(axis, {})},
        key=lambda k: (_DIFFICULTY.get(k, 0), k),
    )
    return [_rate_series(k, rounds, axis, k) for k in keys]


def _num(row: dict[str, Any] | None, key: str) -> float | None:
    value = (row or {}).get(key)
    return float(value) if isinstance(value, (int, float)) else None


# -- tables ----------------------------------------------------------------------------------
def summary_table(data: RunData) -> Table:
    rows = []
    for r in data.rounds:
        e = r.eval
        stages = " ".join(f"{s}:{status or '-'}" for s, status in r.stages.items())
        success = "-" if e is None else f"{e.success_rate:.1%} ({e.episodes}/{e.tasks} episodes)"
        rows.append(
            (
                str(r.round),
                e.policy if e is not None else "-",
                success,
                "-" if e is None else f"{e.mean_steps:.2f}",
                "-" if e is None else f"{e.step_error_rate:.1%}",
                str(r.episodes),
                charts.seconds(sum(r.stage_seconds.values())),
                stages,
            )
        )
    return Table(
        ("round", "policy", "held-out success", "mean steps", "step errors", "episodes stored", "time", "stages"),
        tuple(rows),
    )


def yield_table(rounds: Sequence[RoundRecord]) -> Table:
    with_yield = [(r.round, r.yield_row) for r in rounds if r.yield_row]
    known = {k for k, _ in YIELD_COLUMNS} | {"round"}
    extra = sorted({k for _, row in with_yield for k in row if k not in known})
    columns = [*YIELD_COLUMNS, *((k, k) for k in extra)]
    rows = tuple(
        (str(number), *(_cell(row.get(k), k.endswith("_rate")) for k, _ in columns)) for number, row in with_yield
    )
    return Table(("round", *(label for _, label in columns)), rows)


def _cell(value: Any, rate: bool = False) -> str:
    if rate and isinstance(value, (int, float)):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:g}"
    return "-" if value is None else str(value)


def checkpoint_table(rounds: Sequence[RoundRecord]) -> Table:
    rows = []
    for r in rounds:
        for c in r.checkpoints:
            m = c.metrics
            final = m.get("final_loss")
            rows.append(
                (
                    str(r.round),
                    c.name,
                    _cell(m.get("rows")),
                    "-" if final is None else f"{final:.4f}",
                    "-" if m.get("seconds") is None else charts.seconds(float(m["seconds"])),
                    str(len(m.get("losses", []) or [])),
                    c.git_revision or "-",
                    c.path,
                )
            )
    return Table(
        ("round", "checkpoint", "rows", "final loss", "time", "logged losses", "git revision", "path"), tuple(rows)
    )


def dataset_table(rounds: Sequence[RoundRecord]) -> Table:
    rows = tuple(
        (str(r.round), d.name, d.kind, str(d.rows), d.path or "(counted, not exported)")
        for r in rounds
        for d in r.datasets
    )
    return Table(("round", "dataset", "kind", "rows", "path"), rows)


def failure_table(rounds: Sequence[RoundRecord]) -> tuple[int, Table] | None:
    """The most common failed checks of the last evaluated round."""
    evaluated = [(r.round, r.eval) for r in rounds if r.eval is not None and r.eval.failure_reasons]
    if not evaluated:
        return None
    number, last = evaluated[-1]
    return number, Table(
        ("count", "failed check (values generalised)"),
        tuple((str(n), reason) for reason, n in last.failure_reasons.items()),
    )
