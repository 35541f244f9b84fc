"""SFT speed: domplay's trainer vs TRL's SFTTrainer directly, same data and settings, same run.

    PYTHONPATH=src python bench/train_speed.py [--finetune lora|full] [--lines 24] [--examples 16] [--steps 4]

All sides train the embedded SmolLM2-135M on the same step examples: domplay's prompt (its system
prompt, ~170 tokens, then the task and `--lines` observation lines; 24 give ~550 tokens in all, close
to a run's ~600). Sides:
- raw TRL: SFTTrainer as documented, float32 on CPU (TRL's default), TRL's loss;
- domplay float32: domplay's trainer in float32 (its loss applies the LM head to the labelled tokens
  only, and computes the rows' shared system prompt once per batch);
- domplay bf16: the same with precision bfloat16 (autocast; its default on CPUs with AMX/AVX512-BF16).
The time compared is the training loop (trainer.train()), per example seen; wall time adds loading,
merging and saving. The last line is one JSON object with each side's s/example and the ratios.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from domplay.hardware import native_bf16


def make_rows(count: int, lines: int) -> list[dict]:
    """Step-level SFT rows shaped like domplay's: its system prompt, a task, an observation, one action."""
    from domplay.agent.prompts import build_prompt

    rows = []
    for i in range(count):
        page = [f'[{10 + j}] {"button" if j % 3 else "link"} "Item {i}-{j}"' for j in range(lines)]
        observation = "URL: http://127.0.0.1/shop/\nTitle: Shop\n" + "\n".join(page)
        rows.append(
            {
                "prompt": build_prompt(f"Add item {i} to the cart.", observation),
                "completion": [{"role": "assistant", "content": f"click({10 + i % lines})"}],
                "task_id": f"bench-{i}",
            }
        )
    return rows


def run_domplay(rows: list[dict], config, out: Path) -> dict:
    from domplay.train.sft import train_sft

    start = time.perf_counter()
    result = train_sft(rows, "embedded", out, config)
    wall = time.perf_counter() - start
    return {
        "train_s": result.seconds,
        "examples": result.examples_seen,
        "wall_s": wall,
        "final_loss": result.final_loss,
    }


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
    peft_config = (
        None
        if config.finetune == "full"
        else LoraConfig(
            r=lora.r,
            lora_alpha=lora.alpha,
            lora_dropout=lora.dropout,
            target_modules=list(lora.target_modules),
            task_type="CAUSAL_LM",
        )
    )
    args = SFTConfig(
        output_dir=str(work),
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        max_length=config.max_length_tokens,
        logging_steps=1,
        gradient_checkpointing=False,
        bf16=False,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        disable_tqdm=True,
        seed=config.seed,
        completion_only_loss=True,
    )
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=dataset, processing_class=tokenizer, peft_config=peft_config
    )
    train_start = time.perf_counter()
    trainer.train()
    train_s = time.perf_counter() - train_start
    examples = round(float(trainer.state.epoch) * len(rows))
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    return {"train_s": train_s, "examples": examples, "wall_s": time.perf_counter() - start, "final_loss": losses[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=16)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--finetune", choices=["lora", "full"], default="lora")
    parser.add_argument("--lines", type=int, default=24, help="observation lines per example (24: ~550 tokens)")
    options = parser.parse_args()

    import torch
    import transformers

    from domplay.llm.embedded import embedded_model_dir
    from domplay.train.config import SFTTrainConfig

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    config = SFTTrainConfig(
        max_steps=options.steps,
        batch_size=options.batch_size,
        max_length_tokens=1024,
        keep_adapter=False,
        finetune=options.finetune,
    )
    rows = make_rows(options.examples, options.lines)
    model_dir = embedded_model_dir()
    with tempfile.TemporaryDirectory(prefix="domplay-bench-") as tmp:
        work = Path(tmp)
        run_raw_trl(rows[: config.batch_size], config.model_copy(update={"max_steps": 1}), model_dir, work / "w")
        raw = run_raw_trl(rows, config, model_dir, work / "raw")  # the first call above warmed up lazy imports
        exact = run_domplay(rows, config.model_copy(update={"precision": "float32"}), work / "domplay32")
        half = run_domplay(rows, config.model_copy(update={"precision": "bfloat16"}), work / "domplay16")
    print(
        f"torch threads: {torch.get_num_threads()}, finetune: {options.finetune}, examples: {options.examples}, "
        f"steps: {options.steps}, batch: {options.batch_size}, CPU has hardware bf16: {native_bf16('cpu')}"
    )
    spe = {}
    for name, side in (("raw TRL", raw), ("domplay float32", exact), ("domplay bf16", half)):
        spe[name] = side["train_s"] / side["examples"]
        print(
            f"{name:16s} train loop {side['train_s']:7.2f} s for {side['examples']} examples "
            f"({spe[name]:.3f} s/example), wall incl. load/save {side['wall_s']:7.2f} s, "
            f"final loss {side['final_loss']:.4f}"
        )
    print(
        json.dumps(
            {
                "finetune": options.finetune,
                "raw_trl_s_per_example": round(spe["raw TRL"], 4),
                "domplay_float32_s_per_example": round(spe["domplay float32"], 4),
                "domplay_bf16_s_per_example": round(spe["domplay bf16"], 4),
                "speedup_float32": round(spe["raw TRL"] / spe["domplay float32"], 3),
                "speedup_bf16": round(spe["raw TRL"] / spe["domplay bf16"], 3),
                "raw_trl_wall_s": round(raw["wall_s"], 2),
                "domplay_bf16_wall_s": round(half["wall_s"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
