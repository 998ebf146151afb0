"""The layers only point down: core -> indexer -> qa -> api, eval -> cli; nothing imports the command line.

Every import in every module is read from its source (top-level, inside functions and under TYPE_CHECKING
alike), so a new upward import fails here before it tangles the packages.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What each package may import of the project's packages (besides itself).
MAY_IMPORT = {
    "core": set(),
    "indexer": {"core"},
    "qa": {"core", "indexer"},
    "api": {"core", "indexer", "qa"},
    "eval": {"core", "indexer", "qa"},
    "cli": {"core", "indexer", "qa", "api", "eval"},
}


def imports_of(path: Path) -> set[str]:
    """The top-level names of everything a module imports (relative imports count as its own package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_each_package_imports_only_the_layers_beneath_it(package):
    wrong = {}
    for path in modules(package):
        upward = (imports_of(path) & set(MAY_IMPORT)) - MAY_IMPORT[package] - {package}
        if upward:
            wrong[str(path.relative_to(ROOT))] = sorted(upward)
    assert wrong == {}, f"{package} may import only {sorted(MAY_IMPORT[package])}: {wrong}"


def test_the_rule_sees_an_upward_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from qa.plan import SearchPlan\n"
        "def f():\n    import api.app\n"
    )
    assert imports_of(module) >= {"qa", "api"}


def test_every_package_is_in_the_layering():
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages == set(MAY_IMPORT), "a new package needs its place in MAY_IMPORT (and the README's drawing)"


def test_no_council_or_committee_is_named_in_code():
    """What one council calls itself and its committees comes from config.toml and the papers, never the code."""
    config = (ROOT / "config.toml").read_text(encoding="utf-8")
    names = re.search(r"^names = \[(.*)\]$", config, re.M)
    places = re.search(r"^places = \[(.*)\]$", config, re.M)
    assert names and places
    words = {w.lower() for w in re.findall(r"[A-Za-z]{4,}", names.group(1) + places.group(1))} - {"council"}
    words |= {"children's services overview", "childrens services"}  # the sample's committee
    offending = [
        (str(path.relative_to(ROOT)), word)
        for package in MAY_IMPORT
        for path in modules(package)
        for word in words
        if re.search(rf"\b{re.escape(word)}\b", path.read_text(encoding="utf-8").lower())  # not in "ProcessExpired"
    ]
    assert words and offending == []
