"""Run store and dataset builders: episodes in, TRL-format SFT/DPO data out (see docs/architecture.md).

Import from the submodules: `store` (RunStore), `builders` (build_round, build_sft),
`pairs` (step/trajectory/reference/SPIN pairs), `export` (Parquet/JSONL/datasets),
`demos` (bootstrapped few-shot demos). Nothing heavy is imported here.
"""
