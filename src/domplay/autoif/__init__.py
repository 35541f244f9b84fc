"""Tasks and checks the model writes (AutoIF on the web) and a
growing library of metric definitions (see docs/architecture.md, *Model-written tasks*). Plans
refined into tasks (issue 19, item 2) are not built yet.

- `draft.py` — prompts and the parsing of what the model writes (intent, check code, test paths);
- `filters.py` — the four filters a written task passes: execution, cross-validation,
  back-translation, feasibility; `FilterYield` counts each;
- `proposer.py` — `AutoIFProposer`, the `autoif` task source;
- `mutate.py` — near misses of a path (cross-validation episodes, the precision bench);
- `metrics.py`, `library.py`, `cli.py` — metric definitions written few-shot, validated, reviewed
  (`domplay metrics`).
"""
