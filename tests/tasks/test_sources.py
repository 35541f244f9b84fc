import pytest

from domplay.errors import ConfigError
from domplay.tasks.propose import HELDOUT_SEED_BASE, TemplateProposer, task_seed
from domplay.tasks.sources import Proposer, share_counts


def test_shares_add_up_to_n_in_proportion():
    assert share_counts({"template": 1.0}, 48) == {"template": 48}
    assert share_counts({"a": 1, "b": 1, "c": 1}, 10) == {"a": 4, "b": 3, "c": 3}
    assert share_counts({"a": 3, "b": 1}, 8) == {"a": 6, "b": 2}
    assert share_counts({"a": 1, "b": 0}, 5) == {"a": 5, "b": 0}
    with pytest.raises(ConfigError, match="positive sum"):
        share_counts({"a": 0}, 5)


def test_template_proposer_is_a_proposer():
    proposer: Proposer = TemplateProposer.__new__(TemplateProposer)
    assert proposer.name == "template"


@pytest.mark.parametrize("run_seed", [0, 1, 7, 999])
def test_train_seeds_of_any_run_seed_avoid_the_heldout_range(run_seed):
    heldout = {task_seed("heldout", run_seed, i) for i in (0, 1, 999_999)}
    for r in (1, 2, 50):
        for i in (0, 5, 999_999):
            s = task_seed("train", run_seed * 1000 + r, i)
            assert not HELDOUT_SEED_BASE <= s < 2 * HELDOUT_SEED_BASE
            assert s not in heldout
    # seed 0 keeps the seeds earlier runs used
    assert task_seed("train", 1, 3) == 1_000_003


def test_heldout_seed_out_of_range_is_refused():
    with pytest.raises(ConfigError, match="below 1000"):
        task_seed("heldout", 1000, 0)


def test_config_refuses_unknown_sources_and_empty_shares():
    from domplay.config import load_config

    with pytest.raises(ConfigError, match="unknown task sources"):
        load_config(overrides={"tasks": {"sources": {"templat": 1.0}}})
    with pytest.raises(ConfigError, match="positive share"):
        load_config(overrides={"tasks": {"sources": {"template": 0.0}}})
