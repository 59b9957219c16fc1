"""Block Kit checked with slack_sdk's own models (for the local Slack, which may not import
Slack's libraries itself): what Slack would refuse, worded as Slack words it."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block


def block_problems(blocks: list[Any]) -> list[str]:
    """Gets a line per block slack_sdk's models refuse ("[ERROR] … [json-pointer:…]")."""
    problems = []
    for number, raw in enumerate(blocks):
        where = f"[json-pointer:/blocks/{number}]"
        try:
            block = Block.parse(raw)
        except (SlackObjectFormationError, KeyError, TypeError, ValueError) as exc:
            problems.append(f"[ERROR] {exc} {where}")
            continue
        if block is None:
            problems.append(f"[ERROR] unknown block type {where}")
            continue
        try:
            block.validate_json()
        except SlackObjectFormationError as exc:
            problems.append(f"[ERROR] {exc} {where}")
    return problems
