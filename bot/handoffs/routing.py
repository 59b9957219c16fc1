"""Who in sales gets a lead: round robin among the eligible reps.

`choose_rep` is pure: the first eligible slot in turn order (least recently assigned,
then config order), or why none is. A `Rotation` applies it to a batch of leads, moving
each chosen rep to the back of the queue and counting their new pending hand-off; the
caller stores the new turns in the same transaction, so the rotation is kept in the
database (fair across restarts and processes).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from store.reps import RepSlot


@dataclass(frozen=True)
class Assignment:
    """The rep chosen for a lead, or None and the reason nobody could take it."""

    rep: RepSlot | None
    reason: str | None = None


def _norm(value: Any) -> str:
    return str(value).strip().casefold()


def covers(slot: RepSlot, territory: Any) -> bool:
    """Tells whether a rep takes leads of a territory (a rep with no territories takes all)."""
    if not slot.territories:
        return True
    if territory is None or not str(territory).strip():
        return False
    return _norm(territory) in {_norm(t) for t in slot.territories}


def choose_rep(
    slots: Sequence[RepSlot],
    *,
    territory: Any,
    territory_field: str,
    held: Collection[int] = (),
) -> Assignment:
    """Picks the first eligible rep in turn order who has not held the lead yet (`held`:
    rep ids); or says why none is."""
    where = (
        f"{territory_field} {territory!r}"
        if territory not in (None, "")
        else f"no {territory_field}"
    )
    stages: list[tuple[str, Callable[[RepSlot], bool]]] = [
        ("no active rep in [team.reps]", lambda s: s.active),
        ("every active rep is out of office", lambda s: not s.out_of_office),
        (f"no available rep covers leads with {where}", lambda s: covers(s, territory)),
        ("every eligible rep has held this lead already", lambda s: s.id not in held),
        (
            "every eligible rep is at capacity",
            lambda s: s.capacity is None or s.pending < s.capacity,
        ),
    ]
    remaining = sorted(slots, key=lambda s: (s.turn, s.position))
    if not remaining:
        return Assignment(rep=None, reason="no reps in [team.reps]")
    for reason, keep in stages:
        remaining = [s for s in remaining if keep(s)]
        if not remaining:
            return Assignment(rep=None, reason=reason)
    return Assignment(rep=remaining[0])


def eligible(
    slots: Sequence[RepSlot], *, territory: Any, territory_field: str, held: Collection[int]
) -> list[RepSlot]:
    """Gets the reps who could take a lead now, in turn order."""
    return [
        slot
        for slot in sorted(slots, key=lambda s: (s.turn, s.position))
        if choose_rep([slot], territory=territory, territory_field=territory_field, held=held).rep
    ]


class Rotation:
    """Round robin over a fixed set of slots for one batch of leads."""

    def __init__(self, slots: Sequence[RepSlot], *, territory_field: str) -> None:
        self.slots = list(slots)
        self.territory_field = territory_field
        self.changed: dict[int, int] = {}

    def assign(
        self, territory: Any, *, held: Collection[int] = (), pick: int | None = None
    ) -> Assignment:
        """Chooses a rep for one lead (not one who held it already; `pick`: only this rep,
        if eligible) and takes their turn."""
        slots = [s for s in self.slots if s.id == pick] if pick is not None else self.slots
        assignment = choose_rep(
            slots, territory=territory, territory_field=self.territory_field, held=held
        )
        rep = assignment.rep
        if rep is not None:
            rep.turn = max(s.turn for s in self.slots) + 1
            rep.pending += 1
            self.changed[rep.id] = rep.turn
        return assignment
