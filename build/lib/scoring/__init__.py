"""Lead scoring: pure functions from a lead, its activities and the rules to a score.

No I/O, no database, no Slack, no clock reads: callers pass `now`.
"""

from scoring.backtest import BacktestReport, auc, backtest
from scoring.engine import Activity, CompiledRules, Factor, Score, compiled, rounded, score
from scoring.rules import TIER_ORDER, ScoringRules, Tier

__all__ = [
    "TIER_ORDER",
    "Activity",
    "BacktestReport",
    "CompiledRules",
    "Factor",
    "Score",
    "ScoringRules",
    "Tier",
    "auc",
    "backtest",
    "compiled",
    "rounded",
    "score",
]
