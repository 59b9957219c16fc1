"""Who in sales gets a lead: round robin among the eligible reps.

`choose_rep` is pure: it takes the candidates in round-robin order (least recently
assigned first, then config order) and returns the first eligible one, or why there is
none. `assign` adds the two queries around it: the candidates, and moving the chosen rep
to the back of the queue, both in the caller's transaction so the turn is kept in the
database (fair across restarts and processes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from store.models import Rep
from store.reps import RepLoad, mark_assigned, routing_candidates


@dataclass(frozen=True)
class Assignment:
    """The rep chosen for a lead, or None and the reason nobody could take it."""

    rep: Rep | None
    reason: str | None = None


def _norm(value: Any) -> str:
    return str(value).strip().casefold()


def covers(rep: Rep, territory: Any) -> bool:
    """Tells whether a rep takes leads of a territory (a rep with no territories takes all)."""
    if not rep.territories:
        return True
    if territory is None or not str(territory).strip():
        return False
    return _norm(territory) in {_norm(t) for t in rep.territories}


def choose_rep(
    candidates: Sequence[RepLoad], *, territory: Any, territory_field: str
) -> Assignment:
    """Picks the first eligible rep, in the order given; or says why none is."""
    where = (
        f"{territory_field} {territory!r}"
        if territory not in (None, "")
        else f"no {territory_field}"
    )
    stages: list[tuple[str, Callable[[RepLoad], bool]]] = [
        ("no active rep in [team.reps]", lambda c: c.rep.active),
        ("every active rep is out of office", lambda c: not c.rep.out_of_office),
        (f"no available rep covers leads with {where}", lambda c: covers(c.rep, territory)),
        (
            "every eligible rep is at capacity",
            lambda c: c.rep.capacity is None or c.pending < c.rep.capacity,
        ),
    ]
    remaining = list(candidates)
    if not remaining:
        return Assignment(rep=None, reason="no reps in [team.reps]")
    for reason, keep in stages:
        remaining = [c for c in remaining if keep(c)]
        if not remaining:
            return Assignment(rep=None, reason=reason)
    return Assignment(rep=remaining[0].rep)


def assign(*, session: Session, territory: Any, territory_field: str) -> Assignment:
    """Chooses a rep for a lead and takes their turn in the rotation."""
    assignment = choose_rep(
        routing_candidates(session=session), territory=territory, territory_field=territory_field
    )
    if assignment.rep is not None:
        mark_assigned(session=session, rep=assignment.rep)
    return assignment
