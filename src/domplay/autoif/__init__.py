"""Tasks and checks the model writes (AutoIF on the web), plans refined into tasks, and a
growing library of metric definitions (see docs/architecture.md, *Model-written tasks*).

- `draft.py` — prompts and the parsing of what the model writes (intent, check code, test paths);
- `filters.py` — the four filters a written task passes: execution, cross-validation,
  back-translation, feasibility; `FilterYield` counts each;
- `proposer.py` — `AutoIFProposer`, the `autoif` task source;
- `plans.py` — `PlanTaskProposer`, the `plans` source: plans merged into subtasks with checks;
- `metrics.py`, `library.py` — metric definitions written few-shot, validated, reviewed.
"""
