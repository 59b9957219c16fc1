"""The digest's chart: the week's funnel and SLA compliance by rep, as a PNG.

Drawn with matplotlib when the optional `charts` extra is installed
(`pip install 'lead-handoff[charts]'`); without it the digest is posted as text alone.
"""

from __future__ import annotations

import importlib.util
import io
from typing import Any

from bot.reports.numbers import DigestNumbers


def charts_available() -> bool:
    """Tells whether matplotlib is installed."""
    return importlib.util.find_spec("matplotlib") is not None


def digest_chart(numbers: DigestNumbers) -> bytes | None:
    """Gets the chart of a digest's numbers as PNG bytes (None without matplotlib)."""
    if not charts_available():
        return None
    import matplotlib

    matplotlib.use("Agg")  # no display: render to memory only
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 3.6), dpi=100, layout="constrained")
    funnel, compliance = figure.subplots(1, 2, width_ratios=[1, 1.2])
    _funnel(funnel, numbers)
    _compliance(compliance, numbers)
    figure.suptitle(f"Lead hand-off, {numbers.period}", fontsize=12, fontweight="bold")
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _funnel(axes: Any, numbers: DigestNumbers) -> None:
    stages = ["Leads in", "Handed off", "Decided", "Accepted"]
    values = [
        numbers.leads_in,
        numbers.handed_off,
        numbers.accepted + numbers.rejected,
        numbers.accepted,
    ]
    bars = axes.barh(stages[::-1], values[::-1], color=["#2e7d32", "#1565c0", "#5c6bc0", "#90a4ae"])
    axes.bar_label(bars, padding=3)
    axes.set_title("Funnel", fontsize=10)
    axes.set_xlim(0, max([*values, 1]) * 1.25)
    axes.spines[["top", "right"]].set_visible(False)


def _compliance(axes: Any, numbers: DigestNumbers) -> None:
    names = {row.rep: row.name or row.rep for row in numbers.reps}
    shares = numbers.sla_compliance.by_rep
    reps = sorted(shares, key=lambda rep: names.get(rep, rep))
    values = [100 * (shares[rep] or 0) for rep in reps]
    colours = ["#2e7d32" if v >= 90 else "#f9a825" if v >= 70 else "#c62828" for v in values]
    bars = axes.bar([names.get(rep, rep) for rep in reps], values, color=colours)
    labels = [
        "n/a" if shares[rep] is None else f"{v:.0f}%" for rep, v in zip(reps, values, strict=True)
    ]
    axes.bar_label(bars, labels=labels, padding=2)
    axes.set_ylim(0, 110)
    axes.set_title("SLA compliance by rep (within / (within + breached))", fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    if not reps:
        axes.text(0.5, 0.5, "no hand-offs this week", ha="center", transform=axes.transAxes)
