"""LoRA SFT speed: domplay's trainer vs TRL's SFTTrainer directly, same data and settings, same run.

    PYTHONPATH=src python bench/train_speed.py [--examples 16] [--steps 4] [--batch-size 4]

Both sides train the embedded SmolLM2-135M with the same LoRA config on the same ~200-token
examples; the time compared is the training loop (trainer.train()), per example seen. domplay's
extra work around the loop (data checks, merging, saving, the record) is printed separately.
The last line is one JSON object: domplay_s_per_example, raw_trl_s_per_example, ratio.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

OBSERVATION_LINES = 9  # ~200 tokens of prompt + completion per example with the chat template (24 lines: ~390)


def make_rows(count: int) -> list[dict]:
    """Step-level SFT rows shaped like domplay's: a task, an observation, one action."""
    rows = []
    for i in range(count):
        lines = [f'[{10 + j}] {"button" if j % 3 else "link"} "Item {i}-{j}"' for j in range(OBSERVATION_LINES)]
        prompt = f"Task: add item {i} to the cart.\nURL: http://127.0.0.1/shop/\n" + "\n".join(lines)
        rows.append({"prompt": [{"role": "user", "content": prompt}],
                     "completion": [{"role": "assistant", "content": f"click({10 + i % OBSERVATION_LINES})"}],
                     "task_id": f"bench-{i}"})
    return rows


def run_domplay(rows: list[dict], config, out: Path) -> dict:
    from domplay.train.sft import train_sft

    start = time.perf_counter()
    result = train_sft(rows, "embedded", out, config)
    wall = time.perf_counter() - start
    return {"train_s": result.seconds, "examples": result.examples_seen, "wall_s": wall,
            "final_loss": result.final_loss}


def run_raw_trl(rows: list[dict], config, model_dir: Path, work: Path) -> dict:
    """TRL's documented path: SFTTrainer + peft LoraConfig, nothing of domplay's."""
    import datasets
    import torch
    import transformers
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    start = time.perf_counter()
    transformers.set_seed(config.seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    dataset = datasets.Dataset.from_list(rows).select_columns(["prompt", "completion"])
    lora = config.lora
    peft_config = LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                             target_modules=list(lora.target_modules), task_type="CAUSAL_LM")
    args = SFTConfig(output_dir=str(work), max_steps=config.max_steps, per_device_train_batch_size=config.batch_size,
                     learning_rate=config.learning_rate, max_length=config.max_length_tokens, logging_steps=1,
                     gradient_checkpointing=False, bf16=False, use_cpu=True, report_to=[], save_strategy="no",
                     disable_tqdm=True, seed=config.seed, completion_only_loss=True)
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                         peft_config=peft_config)
    train_start = time.perf_counter()
    trainer.train()
    train_s = time.perf_counter() - train_start
    examples = round(float(trainer.state.epoch) * len(rows))
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    return {"train_s": train_s, "examples": examples, "wall_s": time.perf_counter() - start,
            "final_loss": losses[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=16)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=4)
    options = parser.parse_args()

    import torch
    import transformers

    from domplay.llm.embedded import embedded_model_dir
    from domplay.train.config import SFTTrainConfig

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    config = SFTTrainConfig(max_steps=options.steps, batch_size=options.batch_size, max_length_tokens=512,
                            keep_adapter=False)
    rows = make_rows(options.examples)
    model_dir = embedded_model_dir()
    with tempfile.TemporaryDirectory(prefix="domplay-bench-") as tmp:
        work = Path(tmp)
        run_raw_trl(rows[:config.batch_size], config.model_copy(update={"max_steps": 1}), model_dir, work / "w")
        raw = run_raw_trl(rows, config, model_dir, work / "raw")  # the first call above warmed up lazy imports
        ours = run_domplay(rows, config, work / "domplay")
    d_spe, r_spe = ours["train_s"] / ours["examples"], raw["train_s"] / raw["examples"]
    print(f"torch threads: {torch.get_num_threads()}, examples: {options.examples}, steps: {options.steps}, "
          f"batch: {options.batch_size}")
    for name, side in (("raw TRL", raw), ("domplay", ours)):
        print(f"{name:8s} train loop {side['train_s']:7.2f} s for {side['examples']} examples "
              f"({side['train_s'] / side['examples']:.3f} s/example), wall incl. load/save {side['wall_s']:7.2f} s, "
              f"final loss {side['final_loss']:.4f}")
    print(json.dumps({"domplay_s_per_example": round(d_spe, 4), "raw_trl_s_per_example": round(r_spe, 4),
                      "ratio": round(d_spe / r_spe, 4), "domplay_wall_s": round(ours["wall_s"], 2),
                      "raw_trl_wall_s": round(raw["wall_s"], 2)}))


if __name__ == "__main__":
    main()
