"""WebArena configs become domplay Tasks whose checks judge real snapshots as WebArena would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domplay.errors import ConfigError, TaskFileError
from domplay.tasks.files import load_tasks, save_tasks
from domplay.tasks.model import Task
from domplay.tasks.webarena import ImportOptions, Locator, import_webarena, parse_locator
from domplay.verify.sandbox import Sandbox
from domplay.verify.snapshot import Snapshot
from domplay.verify.verdict import verify

FIXTURES = Path(__file__).parent / "fixtures"
URL_MAP = {
    "SHOPPING": "http://127.0.0.1:7770",
    "__SHOPPING_ADMIN__": "http://127.0.0.1:7780/admin",
    "gitlab": "http://127.0.0.1:8023/",
    "REDDIT": "http://127.0.0.1:9999",
}


@pytest.fixture(scope="module")
def imported() -> tuple[dict[str, Task], object]:
    tasks, report = import_webarena([FIXTURES / "webarena_0.json", FIXTURES / "webarena_tasks.json"], URL_MAP)
    return {t.id: t for t in tasks}, report


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=1) as box:
        yield box


def snap(
    url: str = "http://127.0.0.1:8023/", html: str = "<html><body></body></html>", answer: str | None = None
) -> Snapshot:
    return Snapshot(url=url, html=html, answer=answer)


def passes(task: Task, snapshot: Snapshot, sandbox: Sandbox) -> bool:
    verdict = verify(task.checks, snapshot, sandbox)
    assert verdict.error is None, verdict
    return verdict.success


def test_task_fields_and_provenance(imported):
    tasks, report = imported
    task = tasks["webarena:0"]
    assert task.intent == "What is the top-1 best-selling product in 2022"
    assert task.start_url == "http://127.0.0.1:7780/admin" and task.site == "http://127.0.0.1:7780"
    assert task.provenance.proposer == "webarena" and task.provenance.split == "heldout"
    assert task.provenance.template == "279"
    assert task.provenance.extra["instantiation_dict"] == {"n": 1, "year": 2022}
    assert task.difficulty == "hard"
    assert tasks["webarena:681"].provenance.extra["origins"] == ["http://127.0.0.1:8023", "http://127.0.0.1:9999"]
    assert report.imported == (
        "webarena:0",
        "webarena:21",
        "webarena:11",
        "webarena:293",
        "webarena:400",
        "webarena:590",
        "webarena:681",
    )


def test_string_match_exact_and_must_include(imported, sandbox):
    tasks, _ = imported
    exact = tasks["webarena:0"]
    assert passes(exact, snap(answer="  quest lumaflex™ band "), sandbox)
    assert not passes(exact, snap(answer="Quest Lumaflex Band, probably"), sandbox)

    reviewers = tasks["webarena:21"]
    assert len(reviewers.checks) == 3
    assert passes(reviewers, snap(answer="Catso, Dibbins and Joseph Brzezinski"), sandbox)
    assert not passes(reviewers, snap(answer="Catso and Dibbins"), sandbox)

    count = tasks["webarena:11"]  # a lone one-character item must be a whole token
    assert passes(count, snap(answer="There are 6 reviews."), sandbox)
    assert not passes(count, snap(answer="There are 16 reviews."), sandbox)


def test_url_match_with_alternatives_and_extra_query(imported, sandbox):
    task = imported[0]["webarena:293"]
    base = "http://127.0.0.1:8023/a11yproject/a11yproject.com/-/issues/"
    assert passes(task, snap(url=base + "?label_name%5B%5D=help%20wanted&sort=created_date"), sandbox)
    assert passes(task, snap(url=base + "?label_name[]=status: needs help"), sandbox)
    assert not passes(task, snap(url=base + "?label_name%5B%5D=bug"), sandbox)
    assert not passes(
        task, snap(url="http://127.0.0.1:8023/other/repo/-/issues/?label_name%5B%5D=help%20wanted"), sandbox
    )


def test_program_html_exact_match_on_the_final_page(imported, sandbox):
    task = imported[0]["webarena:400"]
    page = '<div class="user-bio"><p class="user-bio__biography">\n  I am a   robot\n</p></div>'
    assert passes(task, snap(html=page), sandbox)
    assert not passes(task, snap(html=page.replace("robot", "human")), sandbox)
    assert not passes(task, snap(html="<p>I am a robot</p>"), sandbox)  # the element is missing


def test_program_html_must_include_index_and_or(imported, sandbox):
    task = imported[0]["webarena:590"]
    page = """<h2 data-qa-selector="milestone_title_content">Product launch</h2>
    <aside class="milestone-sidebar"><div class="block milestone-date">Start date 01/16/2023</div>
    <div class="block milestone-date">Due date Jan 30, 2023</div></aside>"""
    assert passes(task, snap(html=page), sandbox)
    # querySelectorAll(...)[1]: the second date block must hold "Jan 30", not just any block
    swapped = page.replace("Start date 01/16/2023", "Jan 30, 2023 start").replace(
        "Due date Jan 30, 2023", "Due 01/16/2023"
    )
    verdict = verify(task.checks, snap(html=swapped), sandbox)
    assert not verdict.success and [r.passed for r in verdict.results] == [True, True, False]
    assert "lacks [['Jan 30']]" in verdict.results[2].reason


def test_program_html_whole_page_source_and_url(imported, sandbox):
    task = imported[0]["webarena:681"]
    page = '<a href="http://127.0.0.1:8023/eriklindernoren/PyTorch-GAN">my repo</a>'
    assert passes(task, snap(url="http://127.0.0.1:9999/f/machinelearning", html=page), sandbox)
    # the link may sit in an attribute: WebArena reads the page source, not its text
    assert not passes(task, snap(url="http://127.0.0.1:9999/f/machinelearning/12345", html=page), sandbox)
    assert not passes(task, snap(url="http://127.0.0.1:9999/f/deeplearning", html="<a>no link</a>"), sandbox)


def test_report_lists_every_unmapped_field(imported):
    _, report = imported
    assert set(report.skipped) == {"101", "453", "580", "7"}
    assert report.needs_judge == ("101",)
    fields = {(u.task, u.field) for u in report.unmapped if u.blocking}
    assert fields == {
        ("101", "eval.reference_answers.fuzzy_match"),
        ("453", "eval.program_html[0].url"),
        ("580", "eval.program_html[0].url"),
        ("580", "eval.program_html[1].locator"),
        ("7", "start_url"),
    }
    assert "__MAP__" in report.for_task(7)[-1].reason
    kept = {(u.task, u.field) for u in report.unmapped if not u.blocking}
    assert ("681", "start_url[1]") in kept and ("0", "storage_state") in kept
    assert "skipped 4" in report.summary()


def test_keep_partial_keeps_marked_tasks():
    tasks, _ = import_webarena([FIXTURES / "webarena_tasks.json"], URL_MAP, ImportOptions(keep_partial=True))
    by_id = {t.id: t for t in tasks}
    assert "webarena:580" not in by_id  # nothing at all could be mapped
    assert "webarena:101" not in by_id  # a judge-only task has no rule check to keep
    assert "webarena:7" not in by_id  # no start URL


def test_keep_partial_marks_what_is_missing():
    config = json.loads((FIXTURES / "webarena_tasks.json").read_text())[5]  # task 590
    config = {
        **config,
        "task_id": 9590,
        "eval": {
            **config["eval"],
            "program_html": [
                *config["eval"]["program_html"][:1],
                {
                    "url": "__GITLAB__/primer/design/-/milestones",
                    "locator": "",
                    "required_contents": {"must_include": ["x"]},
                },
            ],
        },
    }
    assert import_webarena([config], URL_MAP)[0] == []
    tasks, _ = import_webarena([config], URL_MAP, ImportOptions(keep_partial=True, split=None))
    assert len(tasks[0].checks) == 1 and tasks[0].provenance.split is None
    assert tasks[0].provenance.extra["unmapped"][0].startswith("eval.program_html[1].url")


@pytest.mark.parametrize(
    ("locator", "expected"),
    [
        ("", Locator(css=None)),
        ("document.querySelector('.a > b').outerText", Locator(css=".a > b")),
        (
            'document.querySelector("[name=\\"product[name]\\"]").value',
            Locator(css='[name="product[name]"]', read="value"),
        ),
        ("document.querySelectorAll('li.row')[2].innerText", Locator(css="li.row", index=2)),
        ("document.getElementById('sku').getAttribute('data-x')", Locator(css='[id="sku"]', read="attr:data-x")),
    ],
)
def test_parse_locator(locator, expected):
    assert parse_locator(locator) == expected


@pytest.mark.parametrize(
    ("locator", "why"),
    [
        ("func:get_query_text(__page__, '.x')", "live site"),
        ("lambda:page.url", "live site"),
        ("document.querySelector('.a')", "are supported"),
        ("document.querySelectorAll('.a').outerText", "NodeList"),
        ("[...document.querySelectorAll('.a')].map(e => e.innerText)", "are supported"),
        ("document.querySelector('[[').outerText", "not CSS"),
    ],
)
def test_unsupported_locators_say_why(locator, why):
    with pytest.raises(ValueError, match=why):
        parse_locator(locator)


def test_imported_tasks_round_trip_through_task_files(imported, tmp_path):
    tasks = list(imported[0].values())
    save_tasks(tmp_path / "webarena.yaml", tasks)
    assert load_tasks(tmp_path / "webarena.yaml") == tasks


def test_bad_inputs_raise_typed_errors(tmp_path):
    with pytest.raises(ConfigError, match="absolute http"):
        import_webarena([], {"SHOPPING": "localhost:7770"})
    broken = tmp_path / "1.json"
    broken.write_text("{not json")
    with pytest.raises(TaskFileError, match=r"1\.json"):
        import_webarena([broken], URL_MAP)
    with pytest.raises(TaskFileError, match="no such"):
        import_webarena([tmp_path / "missing.json"], URL_MAP)


def test_directories_and_garbage_configs(tmp_path):
    for name, data in {
        "10.json": {"task_id": 10},
        "2.json": json.loads((FIXTURES / "webarena_0.json").read_text()),
    }.items():
        (tmp_path / name).write_text(json.dumps(data))
    tasks, report = import_webarena([tmp_path, {**tasks_config(), "task_id": 0}], URL_MAP)
    assert [t.id for t in tasks] == ["webarena:0"]
    assert report.skipped == ("10", "0")
    assert any("duplicate" in u.reason for u in report.for_task(0))


def tasks_config() -> dict:
    return json.loads((FIXTURES / "webarena_0.json").read_text())


@pytest.mark.parametrize("value", [None, True, ["a"], {"b": 1}])
def test_an_expected_answer_that_is_not_text_is_an_issue_not_a_string(value):
    config = tasks_config()
    config["eval"] = {"eval_types": ["string_match"], "reference_answers": {"exact_match": value}}
    tasks, report = import_webarena([config], URL_MAP)
    assert tasks == [] and report.skipped == (str(config["task_id"]),)
    (issue,) = [u for u in report.for_task(config["task_id"]) if u.blocking]
    assert issue.field == "eval.reference_answers.exact_match" and "expected a string" in issue.reason
    config["eval"]["reference_answers"] = {"exact_match": 42}  # numbers are written as text
    (task,) = import_webarena([config], URL_MAP)[0]
    assert task.checks[0].expected == "42"
