""" "How did it go?": the answer buttons on a feedback ask, and the "Not a fit" dialog that
asks why. The DM is redrawn with the answer once given."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View
from sqlmodel import Session

from bot.config import RejectReason
from bot.handoffs import decisions, feedback
from bot.handoffs.decisions import Actor, Decision
from bot.slack.blocks.cards import SECTION_MAX, cut, note_input, reason_input
from bot.slack.ids import ActionId, BlockId, CallbackId
from bot.slack.listeners.dms import (
    DmAt,
    open_dialog,
    settle_after,
    settle_later,
    settle_line,
    tell,
)
from bot.slack.once import button
from bot.slack.text import decision_text, mrkdwn
from store.models import Feedback


class NotAFitState(BaseModel):
    """What the "Not a fit" dialog carries in `private_metadata`."""

    handoff_id: int
    dm: DmAt | None = None


def register(app: App) -> None:
    """Registers the feedback listeners."""
    app.action(re.compile(f"^{re.escape(ActionId.FEEDBACK)}:"))(on_answer)
    app.view(CallbackId.NOT_A_FIT)(on_not_a_fit)


def _record(context: BoltContext, handoff_id: int, actor: Actor, **kwargs: Any) -> Decision:
    deps = context["deps"]
    with Session(deps.engine) as session:
        decision: Decision = feedback.answer(
            session=session,
            handoff_id=handoff_id,
            actor=actor,
            sla=deps.sla,
            now=deps.clock(),
            **kwargs,
        )
        session.commit()
        return decisions.about(session=session, handoff_id=handoff_id, decision=decision)


def _answer_button(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """An answer button: recorded at once, but "Not a fit", which asks why first."""
    action = body["actions"][0]
    given = Feedback(str(action["action_id"]).partition(":")[2])
    handoff_id, actor = int(action["value"]), Actor(body["user"]["id"])
    if given is Feedback.NOT_A_FIT:
        state = NotAFitState(handoff_id=handoff_id, dm=DmAt.of(body)).model_dump_json()
        view = not_a_fit_modal(context["deps"].reasons, state)
        open_dialog(client, body, view.to_dict(), what="Not a fit")
        return
    decision = _record(context, handoff_id, actor, given=given)
    if not settle_after(client, body, decision, actor.slack_id, context["deps"].clock()):
        channel = (body.get("channel") or {}).get("id")
        tell(client, user=actor.slack_id, channel=channel, text=decision_text(decision))


on_answer = button(_answer_button, waits_turn=False)  # "Not a fit" opens a dialog


def on_not_a_fit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """The "Not a fit" dialog: a reason is required, a note optional."""
    values = view["state"]["values"]
    picked = values.get(BlockId.NOT_A_FIT_REASON, {}).get(ActionId.NOT_A_FIT_REASON) or {}
    code = (picked.get("selected_option") or {}).get("value")
    note = (values.get(BlockId.NOT_A_FIT_NOTE, {}).get(ActionId.NOT_A_FIT_NOTE) or {}).get(
        "value"
    ) or ""
    reason = next((r for r in context["deps"].reasons if r.code == code), None)
    if reason is None:
        ack(response_action="errors", errors={BlockId.NOT_A_FIT_REASON: "Choose a reason."})
        return
    state = NotAFitState.model_validate_json(view["private_metadata"])
    actor = Actor(body["user"]["id"])
    decision = _record(
        context, state.handoff_id, actor, given=Feedback.NOT_A_FIT, reason=reason, note=note
    )
    if not decision.ok:
        text = decision_text(decision, plain_text=True)
        ack(response_action="errors", errors={BlockId.NOT_A_FIT_REASON: text})
        return
    ack()
    if state.dm is not None:
        line = settle_line(decision, actor.slack_id, context["deps"].clock())
        settle_later(client, state.dm, line)


def not_a_fit_modal(reasons: list[RejectReason], state: str) -> View:
    """Gets the dialog that asks why an accepted lead was not a fit."""
    return View(
        type="modal",
        callback_id=CallbackId.NOT_A_FIT,
        private_metadata=state,
        title=PlainTextObject(text="Not a fit"),
        submit=PlainTextObject(text="Save"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(text=cut(mrkdwn("not_a_fit_intro.md.j2"), SECTION_MAX))
            ),
            reason_input(
                BlockId.NOT_A_FIT_REASON,
                ActionId.NOT_A_FIT_REASON,
                "Why was it not a fit?",
                reasons,
                dispatch=False,
            ),
            note_input(BlockId.NOT_A_FIT_NOTE, ActionId.NOT_A_FIT_NOTE),
        ],
    )
