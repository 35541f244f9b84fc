"""The command line: one `Error:` line and a distinct exit status for a user's mistake, never a traceback
(unless --debug or DOMPLAY_DEBUG asks for one); `domplay -h` and `python -m domplay` work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from domplay.cli import main
from domplay.config import dump_config, load_config
from domplay.data.store import STORE_FILE
from domplay.errors import ConfigError, ModelError, StoreError

SRC = str(Path(__file__).resolve().parents[1] / "src")


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def assert_one_error_line(result, exit_code: int, *fragments: str) -> None:
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def test_a_typo_in_a_run_config_is_one_error_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("seeed: 3\n")
    assert_one_error_line(invoke("run", "--config", str(bad)), ConfigError.exit_code, "seeed")


def test_resume_of_a_non_run_or_corrupted_directory_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert_one_error_line(invoke("run", "--resume", str(tmp_path / "empty")), 3, "not a run directory")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.yaml").write_text("tasks: [unclosed\n")
    assert_one_error_line(invoke("run", "--resume", str(broken)), 3, "config.yaml")


def test_the_scripted_model_is_refused_on_the_command_line() -> None:
    result = invoke("eval", "--model", "scripted", "--tasks", "smoke", "--limit", "1")
    assert_one_error_line(result, ConfigError.exit_code, "scripted", "random")


@pytest.mark.slow  # the OpenAI backend retries for ~15 s before it gives up
def test_an_unreachable_model_endpoint_is_one_error_line() -> None:
    result = invoke("eval", "--model", "openai:x@http://127.0.0.1:9/v1", "--tasks", "smoke", "--limit", "1")
    assert_one_error_line(result, ModelError.exit_code, "unreachable", "is the server running?")


def test_report_on_a_malformed_or_empty_store_is_one_error_line_and_writes_nothing(tmp_path: Path) -> None:
    for name, content in (("garbage", b"not a database"), ("empty", b"")):
        run = tmp_path / name
        run.mkdir()
        (run / STORE_FILE).write_bytes(content)
        assert_one_error_line(invoke("report", str(run)), StoreError.exit_code, STORE_FILE)
        assert (run / STORE_FILE).read_bytes() == content  # read-only: no schema written into it


def test_out_over_a_run_with_another_config_is_refused(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    dump_config(load_config(overrides={"seed": 1}), run / "config.yaml")
    (run / "marker").write_text("the first run's results")
    other = tmp_path / "other.yaml"
    other.write_text("seed: 2\n")
    result = invoke("run", "--config", str(other), "--out", str(run))
    assert_one_error_line(result, ConfigError.exit_code, "another config", "--resume", "--overwrite")
    assert load_config(run / "config.yaml").seed == 1 and (run / "marker").exists()  # untouched


def test_out_over_a_directory_that_holds_no_run_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    other = tmp_path / "other.yaml"
    other.write_text("seed: 2\n")
    result = invoke("run", "--config", str(other), "--out", str(tmp_path), "--overwrite")
    assert_one_error_line(result, ConfigError.exit_code, "holds files but no run")
    assert (tmp_path / "notes.txt").exists()


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    for args, env in ((["--debug"], None), ([], {"DOMPLAY_DEBUG": "1"})):
        result = invoke(*args, "run", "--resume", str(tmp_path), env=env)
        assert isinstance(result.exception, ConfigError) and "Error: " not in result.output


def test_dash_h_and_python_dash_m() -> None:
    assert invoke("-h").exit_code == 0 and "Usage: " in invoke("-h").output
    assert invoke("run", "-h").exit_code == 0
    env = {**os.environ, "PYTHONPATH": SRC}
    out = subprocess.run([sys.executable, "-m", "domplay", "-h"], capture_output=True, text=True, env=env, check=False)
    assert out.returncode == 0 and "Usage: domplay" in out.stdout, out.stderr
