"""`handoff demo --config`: your config, copied so that nothing leaves the machine."""

from __future__ import annotations

import tomllib
from pathlib import Path

from bot.sandbox.own_setup import channel_id, own_config
from tests.helpers import REPO


def test_channel_names_get_distinct_sandbox_ids_and_ids_stay() -> None:
    channels: dict[str, str] = {}
    given = ["#sales-leads", "#sales-leadership", "#sales-leads", "C0ABCDEF12"]
    found = [channel_id(name, channels) for name in given]
    assert found == ["C0SALESLEAD", "C0SALESLEA1", "C0SALESLEAD", "C0ABCDEF12"]
    assert channels["C0SALESLEA1"] == "sales-leadership"


def test_your_config_is_copied_with_the_stand_in_and_without_outside_services(
    tmp_path: Path,
) -> None:
    source = tmp_path / "yours.toml"
    example = (REPO / "handoff.example.toml").read_text(encoding="utf-8")
    source.write_text(
        example
        + '\n[[webhooks.out]]\nurl = "https://hooks.example.com/x"\nevents = ["handoff.accepted"]\n'
        + 'secret_env = "HOOK_SECRET"\n',
        encoding="utf-8",
    )
    (tmp_path / "copy").mkdir()
    config, channels = own_config(source, tmp_path / "copy", "http://127.0.0.1:9/")
    written = tomllib.loads((tmp_path / "copy" / "handoff.toml").read_text(encoding="utf-8"))
    assert written["crm"] == {"hubspot": {"api_url": "http://127.0.0.1:9/"}}
    assert "webhooks" not in written  # nothing is sent outside the machine
    assert channels[config.team.channel] == "sales-leads"
    assert config.team.channel.startswith("C0")
