"""Merging plans: the best plan plus steps of well-scored others that cover task words it lacks."""

from __future__ import annotations

from domplay.agent.plan_merge import merge_subtasks

INTENT = "Open the Rustic French Press in the Kitchen category and tell me its price."
BEST = ("Open the Kitchen category", "Open the Rustic French Press")


def test_the_best_plan_stands_alone_when_it_covers_the_intent():
    full = (*BEST, "Tell me its price")
    merged = merge_subtasks(INTENT, [(("Click Kitchen", "Read the price"), 4.9), (full, 5.0)], 1, 0.5, 8)
    assert merged.subtasks == full and merged.contributors == (1,)


def test_a_well_scored_plan_adds_the_step_the_best_one_lacks_in_path_order():
    other = ("Click Kitchen", "Open the French Press", "Read the price", "Stop")
    merged = merge_subtasks(INTENT, [(BEST, 5.0), (other, 4.75)], 0, 0.5, 8)
    # "Read the price" covers "price"; its plan has it after the press, so it goes after the press;
    # "Click Kitchen" and "Open the French Press" add no task word; "Stop" none at all
    assert merged.subtasks == (*BEST, "Read the price")
    assert merged.contributors == (0, 1)


def test_a_step_goes_before_the_steps_its_successors_name():
    best = ("Open the Rustic French Press", "Tell me its price")
    other = ("Open the Kitchen category", "Open the Rustic French Press")
    merged = merge_subtasks(INTENT, [(best, 5.0), (other, 4.8)], 0, 0.5, 8)
    assert merged.subtasks == ("Open the Kitchen category", *best)


def test_poorly_scored_plans_add_nothing_and_the_plan_stays_within_max_subtasks():
    other = ("Read the price",)
    assert merge_subtasks(INTENT, [(BEST, 5.0), (other, 4.0)], 0, 0.5, 8).subtasks == BEST
    assert merge_subtasks(INTENT, [(BEST, 5.0), (other, 4.0)], 0, 1.0, 8).subtasks == (*BEST, "Read the price")
    capped = merge_subtasks(INTENT, [(BEST, 5.0), (other, 5.0)], 0, 0.5, 2)
    assert capped.subtasks == BEST and capped.contributors == (0,)


def test_the_best_of_the_others_contributes_first_and_no_step_twice():
    a = ("Open the Kitchen category", "Read the price", "Check the price again")  # the last: nothing new
    b = ("Tell me its price",)
    merged = merge_subtasks(INTENT, [(BEST, 5.0), (b, 4.6), (a, 4.9)], 0, 0.5, 8)
    assert merged.subtasks == (*BEST, "Read the price") and merged.contributors == (0, 2)
