"""Metric definitions: reading, validation, the few-shot writer, the library and its review commands."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from domplay.autoif.library import EXAMPLES, MetricLibrary, read_file
from domplay.autoif.metrics import Trajectory, metric_prompt, read_checks, validate, write_definitions
from domplay.cli import main
from domplay.env.factory import EnvFactory, EnvSettings
from domplay.llm.base import GenerationParams
from domplay.llm.scripted import ScriptedModel
from domplay.selfplay.replay import run_path
from domplay.sites.app import SitesApp
from domplay.verify.sandbox import Sandbox

GOOD = "```yaml\n- {kind: state, path: shop.cart, op: any_match, expected: {name: Rustic Ceramic Kettle, qty: 2}}\n```"


@pytest.fixture(scope="module")
def world():
    sites = SitesApp(seed=0, names=("shop", "forum"))
    with EnvFactory(EnvSettings(), sites) as make, Sandbox(workers=1) as sandbox:
        env = make()
        kettle = read_file(EXAMPLES)[0]
        snapshot = run_path(env, kettle.start_url, kettle.actions)
        yield env, sandbox, Trajectory("shop", 0, kettle.intent, kettle.start_url, tuple(kettle.actions), snapshot)


def test_the_hand_written_examples_are_valid_definitions(world):
    env, sandbox, _ = world
    for d in read_file(EXAMPLES):
        t = Trajectory(d.site, 0, d.intent, d.start_url, tuple(d.actions), run_path(env, d.start_url, d.actions))
        assert validate(env, sandbox, d.checks, t) is None, d.id


def test_replies_parse_into_domplay_checks_or_say_why():
    checks = read_checks(GOOD)
    assert not isinstance(checks, str) and checks[0].kind == "state"
    assert read_checks("Sure, here you go: {") == "not YAML"
    assert read_checks("just words") == "not a list of checks"
    assert read_checks("- {kind: teleport}").startswith("not a domplay check")


def test_validation_refuses_definitions_that_do_not_separate(world):
    env, sandbox, t = world
    everywhere = read_checks("- {kind: element_present, css: body}")
    wrong = read_checks("- {kind: state, path: shop.cart, op: length_eq, expected: 5}")
    assert validate(env, sandbox, everywhere, t) == "passes every mutated trajectory"
    assert validate(env, sandbox, wrong, t) == "fails on its own trajectory"


def test_the_model_writes_definitions_few_shot_and_only_valid_ones_are_queued(world):
    env, sandbox, t = world
    shots = read_file(EXAMPLES)[1:]
    model = ScriptedModel([GOOD, "no idea", "- {kind: element_present, css: body}"])
    out, tally = write_definitions(model, shots, [t, t, t], env, sandbox, GenerationParams(max_new_tokens=64))
    assert [d.checks for d in out] == [read_checks(GOOD)] and out[0].source == "model"
    assert tally.as_dict() == {
        "written": 3.0,
        "queued": 1.0,
        "rejected_not_a_list_of_checks": 1.0,
        "rejected_passes_every_mutated_trajectory": 1.0,
    }
    prompt = metric_prompt(shots, t)  # the shots are user/assistant turns before the trajectory
    assert [m["role"] for m in prompt] == ["system", "user", "assistant", "user", "assistant", "user"]


def test_review_commands_move_definitions(tmp_path, world):
    library = MetricLibrary(tmp_path)
    d = read_file(EXAMPLES)[0].model_copy(update={"id": "shop-x", "source": "model"})
    library.put("queue", d)
    run = CliRunner().invoke
    assert "shop-x" in run(main, ["metrics", "queue", str(tmp_path)]).output
    assert "# queue" in run(main, ["metrics", "show", str(tmp_path), "shop-x"]).output
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {kind: element_present, css: body}\n")
    result = run(main, ["metrics", "edit", str(tmp_path), "shop-x", str(bad)])
    assert result.exit_code != 0 and "passes every mutated trajectory" in result.output
    good = tmp_path / "good.yaml"
    good.write_text(GOOD.strip("`").removeprefix("yaml\n"))
    assert run(main, ["metrics", "edit", str(tmp_path), "shop-x", str(good)]).exit_code == 0
    assert library.get("shop-x")[1].note == "edited by hand"
    assert run(main, ["metrics", "accept", str(tmp_path), "shop-x"]).exit_code == 0
    assert [x.id for x in library.items("library")] == ["shop-x"] and not library.items("queue")
    assert run(main, ["metrics", "reject", str(tmp_path), "shop-x"]).exit_code == 0
    assert library.get("shop-x")[0] == "rejected"
    missing = run(main, ["metrics", "show", str(tmp_path), "nope"])
    assert missing.exit_code != 0 and "no metric definition 'nope'" in missing.output
