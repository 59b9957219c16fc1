"""`handoff demo`: score and explain the example leads with the example rules.

The example files live in the repository's `examples/` folder; the demo scores them as of
a fixed instant so that its output is the same on every machine and every day.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.config import ConfigError, load_config
from bot.scorecmd import LeadInputs, run_score

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
DEMO_NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)

INTRO = """\
Scoring the example leads ({leads}) and their activities ({activities})
with the rules in {config}, as of {now:%Y-%m-%d %H:%M} UTC.

Each lead gets a fit score (who they are) and an intent score (what they did); the total
sets the tier, and "-> sales" marks the leads that would be handed to a rep. Below each
lead are the top factors behind its score, with their signed points.
"""

OUTRO = """
Next: copy handoff.example.toml to handoff.toml, edit the rules, and run
  handoff check-config
  handoff score --leads YOUR_LEADS.csv [--activities YOUR_ACTIVITIES.csv]
  handoff backtest --config examples/xeducation.toml \\
      --leads ../shared/data/xeducation/Leads.csv --outcome-column Converted
"""


def run(config_path: str | None) -> int:
    """Prints the explained scores of the example leads."""
    leads, activities = EXAMPLES / "leads.csv", EXAMPLES / "activities.csv"
    if not leads.is_file():
        print(
            f"{leads}: not found; run the demo from a checkout of the repository", file=sys.stderr
        )
        return 2
    config = load_config(config_path or REPO / "handoff.example.toml")
    if config.settings.scoring is None:
        raise ConfigError([f"{config.path}: the demo needs a [scoring] section"])
    print(
        INTRO.format(
            leads=_short(leads),
            activities=_short(activities),
            config=_short(config.path),
            now=DEMO_NOW,
        )
    )
    code = run_score(
        config.scoring, LeadInputs(leads, activities, DEMO_NOW), fmt="table", out=sys.stdout
    )
    print(OUTRO)
    return code


def _short(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
