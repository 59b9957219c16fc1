"""`handoff slack check` (and the same checks at start-up) against the strict sandbox:
channel names resolved to ids, public channels joined, what cannot be fixed said."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_config
from bot.sandbox.slack_api import SlackSandbox
from bot.slack.checks import check_slack, resolved
from bot.slack.surface import web_client
from tests.helpers import RULES_TOML, TEAM_TOML

CONFIG = (
    RULES_TOML
    + TEAM_TOML.replace('channel = "C0123LEADS"', 'channel = "#sales-leads"')
    + """
[sla]
escalation_channel = "C0LEADERS"
[calibration]
channel = "#revenue"
"""
)


def write(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "handoff.toml"
    path.write_text(text)
    return path


def test_names_resolve_public_channels_are_joined_and_the_rest_is_said(tmp_path: Path) -> None:
    with SlackSandbox() as sandbox:
        sandbox.add_channel("C0123LEADS", "sales-leads", member=False)
        sandbox.add_channel("C0LEADERS", "sales-leadership", private=True, member=False)
        config = load_config(write(tmp_path)).settings
        check = check_slack(web_client(token="xoxb-test", api_url=sandbox.url), config)
        assert check.ids == {"#sales-leads": "C0123LEADS", "C0LEADERS": "C0LEADERS"}
        assert (
            True,
            "team.channel = '#sales-leads' (C0123LEADS): the app joined it",
        ) in check.found
        assert check.problems == [
            "sla.escalation_channel = 'C0LEADERS': the app is not in this private channel: "
            "/invite @Lead Handoff in it",
            "calibration.channel = '#revenue': no channel of that name that the app can see: "
            "fix the name, or invite the app if it is private (/invite @Lead Handoff in it)",
        ]
        fixed = resolved(config, check)
        assert fixed.team is not None
        assert fixed.team.channel == "C0123LEADS"
        assert fixed.calibration.channel == "#revenue"  # unresolved: left as written
        assert sandbox.calls_to("conversations.join")


def test_the_command_says_what_to_fix_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with SlackSandbox() as sandbox:
        sandbox.add_channel("C0123LEADS", "sales-leads", archived=True)
        sandbox.add_channel("C0LEADERS", "sales-leadership")
        sandbox.add_channel("C0REVENUE", "revenue")
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
        monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
        monkeypatch.setenv("SLACK_API_URL", sandbox.url)
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'h.db'}")
        config = write(tmp_path, CONFIG.replace('"#sales-leads"', '"C0123LEADS"'))
        assert main(["slack", "check", "--config", str(config)]) == 1
        out = capsys.readouterr().out
        assert "FIX   team.channel = 'C0123LEADS': the channel is archived" in out
        assert "ok    calibration.channel = '#revenue' (C0REVENUE): the app is in it" in out
        assert "ok    outbox: 0 dead, 0 overdue, 0 pending" in out
        assert out.rstrip().endswith("1 thing(s) to fix.")
        sandbox.revoke("xoxb-test")
        assert main(["slack", "check", "--config", str(config)]) == 1
        assert "FIX   SLACK_BOT_TOKEN does not work (token_revoked)" in capsys.readouterr().out
