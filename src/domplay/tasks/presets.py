"""Named task sets built by the template proposer, and `resolve_tasks` for CLI arguments.

A preset is a recipe, not a file: the same preset and site seed give the same tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from domplay.env.miniwob import MiniWoBConfig
from domplay.errors import ConfigError
from domplay.sites.app import SitesApp
from domplay.tasks.miniwob import SPEC_PREFIX, MiniWoBTasks, eval_tasks
from domplay.tasks.model import Split, Task

DEFAULT_SITES: tuple[str, ...] = ("shop", "forum", "admin")


@dataclass(frozen=True)
class Preset:
    """A task set recipe: how many tasks of which split from which sites."""

    n: int
    split: Split
    sites: tuple[str, ...] = DEFAULT_SITES
    seed: int = 0
    description: str = ""


PRESETS: dict[str, Preset] = {
    "heldout": Preset(120, "heldout", description="the quick preset's held-out set: 40 easy, 40 medium, 40 hard"),
    "heldout-full": Preset(300, "heldout", description="a larger held-out set"),
    "train": Preset(120, "train", description="120 training tasks (train seeds, no held-out-only templates)"),
    "smoke": Preset(12, "heldout", description="12 held-out tasks for a fast check"),
}


def propose_preset(preset: Preset, site_seed: int = 0) -> list[Task]:
    """The tasks of `preset` over built-in sites generated with `site_seed`."""
    from domplay.tasks.propose import TemplateProposer

    proposer = TemplateProposer(SitesApp(seed=site_seed, names=preset.sites))
    try:
        return proposer.propose(preset.n, preset.split, seed=preset.seed).tasks
    finally:
        proposer.close()


def resolve_tasks(
    spec: str, site_seed: int = 0, miniwob: MiniWoBTasks = MiniWoBTasks(), env: MiniWoBConfig = MiniWoBConfig()
) -> list[Task]:
    """A task file path, the name of a preset (see PRESETS), or MiniWoB++ tasks on held-out seeds
    (`miniwob:click-button,enter-text` or `miniwob:all`, `miniwob.eval_seeds_per_task` seeds each)."""
    if spec.startswith(SPEC_PREFIX):
        return eval_tasks(spec, miniwob, env)
    path = Path(spec)
    if path.exists():
        from domplay.tasks.files import load_tasks

        return load_tasks(path)
    if spec in PRESETS:
        return propose_preset(PRESETS[spec], site_seed)
    raise ConfigError(
        f"{spec!r} is neither a task file nor a preset nor {SPEC_PREFIX}TASK,...; presets: {', '.join(PRESETS)}"
    )
