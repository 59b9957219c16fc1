"""The config file: discovery, and errors that name the file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, find_config, load_config, parse_config
from bot.config.tomllines import dotted, index_lines, line_of
from tests.helpers import REPO

BAD = """\
[scoring]
version = "x"

[scoring.tiers]
mql = 80
sql = 70

[[scoring.fit]]
label = "a"
field = "employees"
between = [10, 5]
points = 20

[[scoring.fit]]
label = "b"
feild = "country"
equals = "US"
points = 5

[[scoring.fit]]
label = "c"
field = "country"
equals = "US"
points = "lots"

[[scoring.disqualify]]
label = "e"
field = "x"
present = true

[colours]
x = 1
"""


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "handoff.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.problems


def test_every_problem_named_with_file_line_and_key(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, BAD)
    where = str(tmp_path / "handoff.toml")
    assert problems == [
        f"{where}:4: scoring.tiers: thresholds must increase: mql < sql < high_priority "
        "(got mql=80, sql=70, high_priority=90)",
        f"{where}:11: scoring.fit[0].between: the low bound 10 is above the high bound 5",
        f"{where}:14: scoring.fit[1].field: required key is missing",
        f"{where}:16: scoring.fit[1].feild: unknown key; did you mean `field`? (known keys "
        "here: label, field, equals, in, not_in, between, contains, matches, present, points)",
        f"{where}:24: scoring.fit[2].points: Input should be a valid number, unable to parse "
        "string as a number (got 'lots')",
        f"{where}:26: scoring.disqualify[0]: a disqualify rule needs negative points, "
        "block = true, or both",
        f"{where}:31: colours: unknown key "
        "(known keys here: scoring, team, sla, digest, calibration, crm, webhooks, reject_reasons)",
    ]


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, '[scoring]\nversion = "x"\nmql = = 3\n')
    assert problem.startswith(f"{tmp_path / 'handoff.toml'}:3: not valid TOML: ")


def test_scoring_section_required_only_when_used(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text("# nothing yet\n")
    config = load_config(path)
    with pytest.raises(ConfigError, match=r"empty.toml: this command needs a \[scoring\] section"):
        _ = config.scoring


def test_find_config_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HANDOFF_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="pass --config FILE, set HANDOFF_CONFIG"):
        find_config(None)
    (tmp_path / "handoff.toml").write_text("")
    assert find_config(None) == Path("handoff.toml")
    (tmp_path / "env.toml").write_text("")
    monkeypatch.setenv("HANDOFF_CONFIG", str(tmp_path / "env.toml"))
    assert find_config(None) == tmp_path / "env.toml"
    (tmp_path / "flag.toml").write_text("")
    assert find_config(tmp_path / "flag.toml") == tmp_path / "flag.toml"
    with pytest.raises(ConfigError, match=r"nope.toml: no such file \(from --config\)"):
        find_config(tmp_path / "nope.toml")
    monkeypatch.setenv("HANDOFF_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigError, match=r"from \$HANDOFF_CONFIG"):
        find_config(None)


@pytest.mark.parametrize("name", ["handoff.example.toml", "examples/xeducation.toml"])
def test_shipped_configs_are_valid(name: str) -> None:
    config = load_config(REPO / name)
    assert config.scoring.fit
    assert config.scoring.version


def test_example_config_documents_every_key() -> None:
    text = (REPO / "handoff.example.toml").read_text()
    for key in [
        "version",
        "mql",
        "sql",
        "high_priority",
        "min_tier",
        "fit_min",
        "intent_min",
        "fit_max",
        "intent_max",
        "label",
        "field",
        "points",
        "equals",
        "in",
        "not_in",
        "between",
        "contains",
        "matches",
        "present",
        "activity",
        "min_count",
        "per_occurrence",
        "cap",
        "within_days",
        "half_life_days",
        "block",
    ]:
        assert f"\n{key} = " in text or f"#   {key} " in text or f"#     {key} " in text, key


def test_line_index_handles_nested_arrays_and_dotted_keys() -> None:
    text = '[a]\nx.y = 1\n[[a.b]]\nk = 1\n[[a.b]]\nk = 2\n[a.b.c]\nz = 3\n"q w" = 4\n'
    lines = index_lines(text)
    assert lines[("a", "x", "y")] == 2
    assert lines[("a", "b", 1, "k")] == 6
    assert lines[("a", "b", 1, "c", "z")] == 8
    assert lines[("a", "b", 1, "c", "q w")] == 9
    assert line_of(lines, ("a", "b", 0, "missing", 3)) == 3
    assert line_of(lines, ("nowhere",)) is None
    assert dotted(("scoring", "fit", 2, "between")) == "scoring.fit[2].between"


TEAM_PROBLEMS = """\
[team]
timezone = "Mars/Olympus"
channel = "#leads"
[[team.reps]]
slack_id = "alice"
name = "Alice"
[[team.reps]]
slack_id = "U0BEN"
name = "Ben"
capacity = 0
[[team.reps]]
slack_id = "U0BEN"
name = "Ben again"
"""


def test_team_problems_are_named(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, TEAM_PROBLEMS)
    where = str(tmp_path / "handoff.toml")
    assert problems[0] == (
        f"{where}:2: team.timezone: unknown time zone 'Mars/Olympus': use an IANA name such "
        "as 'America/New_York'"
    )
    assert problems[1].startswith(f"{where}:5: team.reps[0].slack_id: String should match pattern")
    assert problems[2].startswith(f"{where}:10: team.reps[1].capacity: Input should be greater")


def test_duplicate_reps_are_refused(tmp_path: Path) -> None:
    text = TEAM_PROBLEMS.replace("Mars/Olympus", "UTC").replace('"alice"', '"U0ALICE"')
    text = text.replace("capacity = 0", "capacity = 3")
    assert problems_of(tmp_path, text) == [
        f"{tmp_path / 'handoff.toml'}:1: team: rep U0BEN is listed twice"
    ]


def test_team_section_required_only_when_used(tmp_path: Path) -> None:
    path = tmp_path / "h.toml"
    path.write_text('[scoring]\nversion = "v"\n')
    config = load_config(path)
    assert config.scoring.version == "v"
    with pytest.raises(ConfigError, match=r"needs a \[team\] section"):
        _ = config.team


def test_the_example_crm_and_webhook_sections_are_valid_once_uncommented() -> None:
    """They ship commented out (a newcomer's set-up sends nothing anywhere); uncommented,
    they are exactly what check-config accepts, each default as the README says."""
    text = (REPO / "handoff.example.toml").read_text()
    live = "\n".join(line.removeprefix("#: ") for line in text.splitlines())
    config = parse_config(live, REPO / "handoff.example.toml")
    assert config.crm.hubspot is not None
    assert config.crm.salesforce is not None
    assert config.crm.hubspot.status.accepted == "IN_PROGRESS"
    assert config.crm.hubspot.lifecycle.accepted == "salesqualifiedlead"
    assert config.crm.salesforce.status.accepted == "Working - Contacted"
    assert [hook.events for hook in config.webhooks.out] == [
        ["handoff.accepted", "handoff.rejected", "handoff.breached"]
    ]
    shipped = load_config(REPO / "handoff.example.toml").settings
    assert (shipped.crm.hubspot, shipped.crm.salesforce, shipped.webhooks.out) == (None, None, [])


def test_a_typo_in_a_crm_section_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "handoff.toml"
    path.write_text(
        '[crm.hubspot]\nportal_id = 42\n[crm.hubspot.status]\naccepted = "OPEN"\nacepted = "X"\n'
    )
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert f"{path}:5: crm.hubspot.status.acepted: unknown key" in str(error.value)
