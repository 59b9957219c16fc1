"""`handoff score`, `backtest`, `check-config` and `demo` as an admin runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from tests.helpers import REPO, RULES_TOML, xeducation_args

RULES = """\
[scoring]
version = "cli-1"
[scoring.tiers]
mql = 40
sql = 70
high_priority = 90
[[scoring.fit]]
label = "Company size matches ICP"
field = "employees"
between = [50, 1000]
points = 20
[[scoring.intent]]
label = "Requested a demo"
activity = "demo_request"
points = 40
[[scoring.intent]]
label = "Viewed pricing"
activity = "pricing_page_view"
points = 15
per_occurrence = true
cap = 30
[[scoring.disqualify]]
label = "Non-serviceable region"
field = "country"
not_in = ["US", "CA"]
points = -50
block = true
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "handoff.toml"
    path.write_text(RULES)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_score_json_is_hand_computable(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text("external_id,employees,country\nA,120,US\nB,10,FR\nC,,\n")
    acts = tmp_path / "acts.csv"
    acts.write_text(
        "lead_id,kind,occurred_at\n"
        "A,demo_request,2026-11-01T10:00:00Z\n"
        + "A,pricing_page_view,2026-11-02T10:00:00Z\n" * 3
        + "B,demo_request,2026-11-01\n"
    )
    code, out, err = run(
        capsys,
        "score",
        "--config",
        config,
        "--leads",
        leads,
        "--activities",
        acts,
        "--now",
        "2026-11-20T00:00:00Z",
        "--format",
        "json",
    )
    assert code == 0, err
    a, b, c = json_lines(out)
    assert a == {
        "external_id": "A",
        "fit": 20.0,
        "intent": 70.0,
        "total": 90.0,
        "tier": "high_priority",
        "routable": True,
        "blocked": None,
        "factors": [
            {"label": "Viewed pricing", "axis": "intent", "points": 45.0},
            {"label": "Requested a demo", "axis": "intent", "points": 40.0},
            {"label": "Company size matches ICP", "axis": "fit", "points": 20.0},
            {"label": "Viewed pricing: capped at 30", "axis": "intent", "points": -15.0},
        ],
        "rules_version": "cli-1",
    }
    assert (b["fit"], b["intent"], b["tier"], b["blocked"], b["routable"]) == (
        -50.0,
        40.0,
        "nurture",
        "Non-serviceable region",
        False,
    )
    assert (c["total"], c["factors"]) == (0.0, [])
    assert "Scored 3 lead(s) with rules cli-1: 1 high_priority, 0 sql, 0 mql, 2 nurture" in err


def test_bad_rows_are_reported_and_the_rest_scored(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "external_id,employees,country\n"
        "A,120,US\n"
        ",5,US\n"  # line 3: no id
        "C,1,US,extra\n"  # line 4: too many values
        '"D","multi\nline",US\n'  # lines 5-6: a quoted newline is one row
        "A,3,US\n"  # line 7: duplicate
        "E,60,CA\n"
    )
    acts = tmp_path / "acts.jsonl"
    acts.write_text(
        '{"lead_id": "A", "kind": "demo_request", "occurred_at": "2026-11-01T10:00:00Z"}\n'
        '{"lead_id": "E", "kind": "demo_request", "occurred_at": "last tuesday"}\n'
        "not json\n"
        '{"lead_id": "ZZ", "kind": "demo_request", "occurred_at": "2026-11-01"}\n'
    )
    code, out, err = run(
        capsys,
        "score",
        "--config",
        config,
        "--leads",
        leads,
        "--activities",
        acts,
        "--now",
        "2026-11-20T00:00:00Z",
        "--format",
        "json",
    )
    assert code == 1
    assert [row["external_id"] for row in json_lines(out)] == ["A", "D", "E"]
    assert f"{acts}:2: `occurred_at` 'last tuesday' is not an ISO 8601 date-time" in err
    assert f"{acts}:3: not valid JSON" in err
    assert f"{leads}:3: no value for `external_id`, the lead's id" in err
    assert f"{leads}:4: 4 values but the header has 3 columns" in err
    assert f"{leads}:7: duplicate id 'A' (first at line 2)" in err
    assert "activities of 1 lead id(s) not in" in err
    assert "'ZZ' at line 4" in err
    assert err.rstrip().endswith("5 bad row(s) skipped.")


def test_missing_id_column_says_how_to_choose_one(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text("Prospect ID,employees,country\np1,100,US\n")
    code, out, err = run(capsys, "score", "--config", config, "--leads", leads)
    assert code == 2
    assert out == ""
    assert err.strip() == (
        f"{leads}:1: no column `external_id` (choose another with --id-column; "
        "columns: Prospect ID, employees, country)"
    )
    code, out, _ = run(
        capsys,
        "score",
        "--config",
        config,
        "--leads",
        leads,
        "--id-column",
        "Prospect ID",
        "--format",
        "json",
    )
    assert code == 0
    assert json_lines(out)[0]["external_id"] == "p1"


def test_json_lines_leads_with_attributes_and_inline_activities(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leads = tmp_path / "leads.jsonl"
    leads.write_text(
        json.dumps(
            {
                "external_id": "J1",
                "country": "US",
                "attributes": {"employees": 300},
                "activities": [
                    {"id": "e1", "kind": "demo_request", "occurred_at": "2026-11-19T00:00:00Z"}
                ],
            }
        )
        + "\n"
        + json.dumps({"external_id": "J2", "attributes": "nope"})
        + "\n"
    )
    code, out, err = run(
        capsys,
        "score",
        "--config",
        config,
        "--leads",
        leads,
        "--now",
        "2026-11-20T00:00:00Z",
        "--format",
        "json",
    )
    assert code == 1
    (row,) = json_lines(out)
    assert (row["fit"], row["intent"]) == (20.0, 40.0)
    assert f"{leads}:2: `attributes` must be a JSON object" in err


def test_table_shows_top_factors_and_block_reason(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text("external_id,employees,country\nB,100,FR\n")
    code, out, _ = run(capsys, "score", "--config", config, "--leads", leads)
    assert code == 0
    assert "B  fit -30.0  intent 0.0  total -30.0  nurture  stays with marketing" in out
    assert "blocked: Non-serviceable region" in out
    assert "-50.0  fit     Non-serviceable region" in out


def test_unknown_rule_field_is_warned(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text(RULES.replace('field = "employees"', 'field = "employes"'))
    leads = tmp_path / "leads.csv"
    leads.write_text("external_id,employees,country\nA,100,US\n")
    _, _, err = run(capsys, "score", "--config", config, "--leads", leads)
    assert "no lead in" in err
    assert "`employes` (used by: Company size matches ICP)" in err


def test_bad_now_is_a_usage_error(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["score", "--config", str(config), "--leads", "x.csv", "--now", "yesterday"])
    assert caught.value.code == 2
    assert "'yesterday' is not an ISO 8601 date-time" in capsys.readouterr().err


def test_missing_leads_file(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "score", "--config", config, "--leads", "nowhere.csv")
    assert code == 2
    assert "nowhere.csv: cannot open: No such file or directory" in err


def test_check_config(tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check-config", "--config", config)
    assert (code, out.strip()) == (
        0,
        f"{config}: OK (scoring cli-1: 1 fit, 2 intent, 1 disqualify rule(s))",
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(RULES.replace("points = 40", "points = forty"))
    code, _, err = run(capsys, "check-config", "--config", bad)
    assert code == 2
    assert err.startswith(f"{bad}:")
    assert "not valid TOML" in err


def test_init_writes_the_example_config_that_checks_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "handoff.toml"
    code, said, _ = run(capsys, "init", "--out", out)
    assert code == 0
    assert said.startswith(f"Wrote {out}")
    assert out.read_text() == (REPO / "handoff.example.toml").read_text()
    assert run(capsys, "check-config", "--config", out)[0] == 0
    out.write_text("# mine\n")
    code, _, err = run(capsys, "init", "--out", out)
    assert code == 2
    assert "already exists; not overwritten" in err
    assert out.read_text() == "# mine\n"


def test_backtest_small(tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leads = tmp_path / "history.csv"
    leads.write_text("employees,country,won\n100,US,yes\n10,US,no\n100,FR,no\n5,CA,maybe\n")
    code, out, err = run(
        capsys,
        "backtest",
        "--config",
        config,
        "--leads",
        leads,
        "--outcome-column",
        "won",
        "--format",
        "json",
    )
    assert code == 1
    assert f"{leads}:5: `won`: outcome 'maybe' is not one of" in err
    report = json.loads(out)
    assert (report["n"], report["positives"], report["auc"]) == (3, 1, 1.0)
    code, _, err = run(
        capsys, "backtest", "--config", config, "--leads", leads, "--outcome-column", "Converted"
    )
    assert code == 2
    assert "no column `Converted` for --outcome-column" in err


def test_backtest_on_x_education_held_out(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's figures: the example's rules on the 30% of leads seed 7 holds out
    (they were calibrated on the other 70%), beside a logistic regression."""
    args = [
        "backtest",
        "--config",
        REPO / "examples/xeducation.toml",
        *xeducation_args(shared_data),
    ]
    code, out, err = run(capsys, *args, "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["n"], report["positives"]) == (2818, 1037)
    assert report["evaluation"]["fitted_on"] == 6422
    assert sum(t["count"] for t in report["tiers"].values()) == 2818
    assert report["auc"] == 0.8862  # as the README says
    regression = report["evaluation"]["logistic_regression"]
    assert regression["auc"] == 0.8914
    assert "same 26 columns" in regression["note"]
    assert report["auc"] >= regression["auc"] - 0.01  # 15 readable rules, as good
    rates = [report["tiers"][t]["rate"] for t in ("nurture", "mql", "sql", "high_priority")]
    assert rates == sorted(rates), "conversion must rise with the tier"
    assert "no lead in" not in err, "every rule field must be a real column"
    code, out, _ = run(capsys, *args)
    assert "ROC AUC of the total score: 0.886" in out
    assert "Held out: 2,818 of 9,240 leads (30% at random, seed 7)" in out


def test_backtest_names_the_rules_an_excluded_column_switches_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "handoff.toml"
    config.write_text(RULES_TOML)
    leads = tmp_path / "leads.csv"
    rows = [f"L{i},{50 + i},{'US' if i % 2 else 'FR'},{i % 2}" for i in range(40)]
    leads.write_text("external_id,employees,country,won\n" + "\n".join(rows) + "\n")
    args: list[str | Path] = ["backtest", "--config", config, "--leads", leads]
    args += ["--outcome-column", "won"]
    code, _, err = run(capsys, *args, "--exclude-column", "employees")
    assert code == 0, err
    assert "--exclude-column switches off 1 rule(s)" in err


def test_demo_explains_the_example_leads(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "demo", "--scores")
    assert code == 0, err
    assert "L-1001  fit 65.0  intent 68.2  total 100.0  high_priority  -> sales" in out
    assert "-33.2  total   Total score capped at 100" in out  # a 0-100 score
    assert "blocked: Competitor" in out
    assert "Scored 10 lead(s)" in err


def test_console_script_is_installed(tmp_path: Path, config: Path) -> None:
    script = Path(sys.executable).parent / "handoff"
    leads = tmp_path / "leads.csv"
    leads.write_text("external_id,employees,country\nA,100,US\n")
    done = subprocess.run(
        [script, "score", "--config", config, "--leads", leads, "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["fit"] == 20.0


def test_piped_into_head_a_command_ends_quietly(tmp_path: Path) -> None:
    """`handoff score … | head -1`: the reader closes the pipe early; no BrokenPipeError."""
    rows = (REPO / "examples" / "leads.csv").read_text(encoding="utf-8").splitlines()
    header, body = rows[0], rows[1:]
    many = [header] + [
        row.replace(row.split(",")[0], f"{row.split(',')[0]}-{n}", 1)
        for n in range(400)
        for row in body
    ]
    leads = tmp_path / "many.csv"
    leads.write_text("\n".join(many) + "\n", encoding="utf-8")
    script = Path(sys.executable).parent / "handoff"
    config = REPO / "handoff.example.toml"
    command: list[str | Path] = [script, "score", "--config", config, "--leads", leads]
    command += ["--format", "json"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None
        assert process.stdout.readline().startswith(b"{")
        process.stdout.close()  # what `head -1` does once it has its line
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert b"Traceback" not in err
    assert b"BrokenPipe" not in err
