"""Fixtures of the end-to-end tests: the demo's whole stack with a few cards posted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.sandbox.script import cards
from bot.sandbox.stack import DemoStack, sample_leads
from tests.helpers import wait_for


@pytest.fixture
def demo_stack() -> Iterator[DemoStack]:
    """`handoff demo`'s stack (app, worker, sandbox page) with eight leads in and at least
    four cards posted."""
    running = DemoStack().start()
    try:
        for lead in sample_leads(8, running.config.scoring):
            running.post_lead(lead)
        wait_for(lambda: (running.deliver(), len(cards(running)) >= 4)[1])
        yield running
    finally:
        running.stop()
