"""A lead's chain of hand-offs is found through indexes, whatever the table's size: every
card drawn, every notice and every post reads it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from store.db import make_engine
from store.handoffs import _in_chain
from store.migrate import upgrade
from store.models import Handoff, table


def test_the_chain_is_read_through_indexes_never_by_scanning_the_table(tmp_path: Path) -> None:
    """SQLite answers `id = ? OR chain_id = ?` by scanning every hand-off (a tenth of a
    second a card at a million); the chain condition keeps to the primary key and the
    chain index."""
    engine = make_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    upgrade(engine)
    handoffs = table(Handoff)
    query = (
        select(handoffs.c.id)
        .where(_in_chain(5))
        .compile(engine, compile_kwargs={"literal_binds": True})
    )
    with engine.connect() as connection:
        plan = [row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}")]
    engine.dispose()
    assert not [step for step in plan if step.startswith("SCAN handoff")], plan
    assert any("ix_handoff_chain_id" in step for step in plan), plan
