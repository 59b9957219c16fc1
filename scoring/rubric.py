"""The statistics calibration rests on: the Wilson interval of a conversion rate, the odds
ratio of a 2×2 table, and the one rubric that turns an odds ratio into points
(10 × log2, rounded, within ±40: a rule that doubles the odds is worth 10 points).

Pure: numbers in, numbers out.
"""

from __future__ import annotations

import math

POINTS_PER_DOUBLING = 10.0
MAX_POINTS = 40.0
Z95 = 1.959963984540054


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """Gets the Wilson score interval of a proportion (95% by default)."""
    if trials <= 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def odds_ratio(with_yes: int, with_no: int, without_yes: int, without_no: int) -> float:
    """Gets the odds ratio of a 2×2 table, each cell + 0.5 (Haldane-Anscombe)."""
    return ((with_yes + 0.5) / (with_no + 0.5)) / ((without_yes + 0.5) / (without_no + 0.5))


def rubric(ratio: float) -> float:
    """Gets the points an odds ratio is worth: 10 × log2, rounded, within ±40."""
    points = round(POINTS_PER_DOUBLING * math.log2(ratio))
    return float(max(-MAX_POINTS, min(MAX_POINTS, points)))


def implied_ratio(points: float) -> float:
    """Gets the odds ratio that the rubric turns into these points."""
    return float(2 ** (points / POINTS_PER_DOUBLING))
