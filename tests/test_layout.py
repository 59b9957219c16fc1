"""The code map holds: packages in one order, none importing a package above it; small
modules and functions; Slack only in bot/slack; every package listed in pyproject.toml."""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import REPO

# Lowest first (bot/__init__.py and the README say the same).
ORDER = [
    "resources",
    "config",
    "handoffs",
    "reports",
    "messaging",
    "crm",
    "slack",
    "runtime",
    "sandbox",
    "cli",
]
SOURCES = ("bot", "scoring", "store")


def modules() -> Iterator[Path]:
    for top in SOURCES:
        for path in sorted((REPO / top).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def imported(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "bot" or len(parts) < 2 or parts[1] not in ORDER:
        return None
    return ORDER.index(parts[1])


def test_no_package_imports_one_above_it() -> None:
    upward = []
    for path in modules():
        own = layer(".".join(path.relative_to(REPO).with_suffix("").parts))
        for module in imported(path):
            other = layer(module)
            if own is not None and other is not None and other > own:
                upward.append(f"{path.relative_to(REPO)} imports {module}")
            if path.parts[-3:-1] and path.relative_to(REPO).parts[0] in ("scoring", "store"):
                assert not module.startswith("bot"), f"{path} imports {module}"
    assert upward == []


def test_only_bot_slack_imports_slack_libraries() -> None:
    found = [
        str(path.relative_to(REPO))
        for path in modules()
        if any(m.split(".")[0] in ("slack_bolt", "slack_sdk") for m in imported(path))
        and path.relative_to(REPO).parts[:2] != ("bot", "slack")
    ]
    assert found == []


def test_few_modules_sit_directly_in_bot() -> None:
    direct = [p.name for p in (REPO / "bot").glob("*.py") if p.name != "__init__.py"]
    assert len(direct) <= 5, direct


@pytest.mark.parametrize("path", list(modules()), ids=lambda p: str(p.relative_to(REPO)))
def test_modules_and_functions_stay_small(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 400, "a module over 400 lines: split it by concern"
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > 60
    ]
    assert long == []


def test_every_package_is_listed_in_pyproject() -> None:
    listed = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    mapped = {"bot.templates", "bot.examples"}
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for top in SOURCES
        for init in (REPO / top).rglob("__init__.py")
    }
    namespaces = {"store.migrations", "store.migrations.versions"}  # Alembic's, no __init__
    assert listed == found | mapped | namespaces
