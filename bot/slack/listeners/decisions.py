"""Accept, Claim and Reject: the buttons on a lead card and the reject dialog.

Each listener acks first (Slack wants an answer within 3 seconds), then decides through
`bot.handoffs.decisions`, then tells the clicker anything that went wrong, privately. A modal
submission is the exception: validation errors must travel in the ack itself.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel
from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.handoffs import decisions
from bot.handoffs.cards import load_card
from bot.handoffs.decisions import Actor, Decision
from bot.slack.blocks.cards import note_required, reject_modal
from bot.slack.ids import ActionId, BlockId, CallbackId
from bot.slack.listeners.dms import (
    DmAt,
    open_dialog,
    settle_after,
    settle_later,
    settle_line,
    tell,
)
from bot.slack.listeners.home import publish_home
from bot.slack.once import button
from bot.slack.text import decision_text, reject_problem_text

log = logging.getLogger(__name__)


class RejectState(BaseModel):
    """What the reject dialog carries in `private_metadata`."""

    handoff_id: int
    from_home: bool = False
    dm: DmAt | None = None  # opened from a reminder's or a nudge's buttons


def register(app: App) -> None:
    """Registers the card's listeners."""
    app.action(ActionId.ACCEPT)(on_accept)
    app.action(ActionId.CLAIM)(on_claim)
    app.action(ActionId.REJECT)(on_reject_button)
    app.action(ActionId.ESCALATION_TAKE)(on_take)
    app.action(ActionId.ESCALATION_REMIND)(on_remind)
    app.action(ActionId.ESCALATION_REASSIGN)(on_reassign)
    app.action(ActionId.ESCALATION_PICK)(on_pick)
    app.action(ActionId.REJECT_REASON)(on_reject_reason)
    app.view(CallbackId.REJECT)(on_reject_submit)


def _clicked(body: dict[str, Any]) -> tuple[int, Actor]:
    return int(body["actions"][0]["value"]), Actor(body["user"]["id"])


def _channel(body: dict[str, Any]) -> str | None:
    return (body.get("channel") or {}).get("id")


def _from_home(body: dict[str, Any]) -> bool:
    return (body.get("view") or {}).get("type") == "home"


def _answer(
    client: WebClient, body: dict[str, Any], context: BoltContext, user: str, message: str
) -> None:
    """Tells the clicker how it went: privately in the channel of the card, or, for a click
    in App Home, on the republished Home tab."""
    if _from_home(body):
        publish_home(client=client, context=context, user=user, notice=message or None)
        return
    if message:
        tell(client, user=user, channel=_channel(body), text=message)


def _decide(context: BoltContext, step: Any, **kwargs: Any) -> Decision:
    deps = context["deps"]
    with Session(deps.engine) as session:
        decision: Decision = step(session=session, now=deps.clock(), **kwargs)
        session.commit()
        decision = decisions.about(
            session=session, handoff_id=kwargs["handoff_id"], decision=decision
        )
    if decision.ok:
        deps.wake_sender()
    return decision


def _button(step: Any) -> Any:
    def work(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        handoff_id, actor = _clicked(body)
        sla = context["deps"].sla
        decision = _decide(context, step, handoff_id=handoff_id, actor=actor, sla=sla)
        if settle_after(client, body, decision, actor.slack_id, context["deps"].clock()):
            return  # a reminder's buttons: the DM now says what happened
        # In a channel the card itself shows a decision; App Home says it in a line.
        told = decision_text(decision, clicker=actor.slack_id)
        message = "" if decision.ok and not _from_home(body) else told
        _answer(client, body, context, actor.slack_id, message)

    return button(work)


# Accept: the first authorised click wins; the card is updated through the outbox.
on_accept = _button(decisions.accept)
# Claim: a rep takes an unassigned lead (and accepts it).
on_claim = _button(decisions.claim)


def _manager_button(step: Any, *, needs: tuple[str, ...] = ()) -> Any:
    """A button on a manager's escalation DM; the result is told to the manager.
    (`needs`: what else the step takes from the listeners' deps: the team, the SLA…)"""

    def work(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        handoff_id, actor = _clicked(body)
        deps = context["deps"]
        extra = {name: getattr(deps, name) for name in needs}
        decision = _decide(context, step, handoff_id=handoff_id, actor=actor, **extra)
        _told(client, body, context, actor, decision)

    return button(work)


def _told(
    client: WebClient, body: dict[str, Any], context: BoltContext, actor: Actor, decision: Decision
) -> None:
    """Tells a manager how their click went: in the DM itself, redrawn, else privately."""
    if not settle_after(client, body, decision, actor.slack_id, context["deps"].clock()):
        text = decision_text(decision, clicker=actor.slack_id)
        _answer(client, body, context, actor.slack_id, text)


def _pick(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Pick the new owner: the manager moves the lead to the rep they chose."""
    selected = (body["actions"][0].get("selected_option") or {}).get("value") or ""
    handoff, _, to = selected.partition(":")
    actor = Actor(body["user"]["id"])
    deps = context["deps"]
    decision = _decide(
        context,
        decisions.reassign_by_manager,
        handoff_id=int(handoff),
        actor=actor,
        team=deps.team,
        sla=deps.sla,
        to=to,
    )
    _told(client, body, context, actor, decision)


on_pick = button(_pick)

# Take it: the manager accepts the lead personally.
on_take = _manager_button(decisions.accept, needs=("sla",))
# Remind rep: a nudge to the rep, from the manager.
on_remind = _manager_button(decisions.remind_rep, needs=("team", "reasons", "sla"))
# Reassign: the lead goes to the next eligible rep, with a fresh deadline.
on_reassign = _manager_button(decisions.reassign_by_manager, needs=("team", "sla"))


def _reject_button(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Reject: opens the dialog, if the clicker may decide."""
    handoff_id, actor = _clicked(body)
    deps = context["deps"]
    with Session(deps.engine) as session:
        allowed = decisions.about(
            session=session,
            handoff_id=handoff_id,
            decision=decisions.may_reject(session=session, handoff_id=handoff_id, actor=actor),
        )
        card = (
            load_card(session=session, handoff_id=handoff_id, team=deps.team, reasons=deps.reasons)
            if allowed.ok
            else None
        )
    if card is None:
        _answer(client, body, context, actor.slack_id, decision_text(allowed))
        return
    state = RejectState(
        handoff_id=handoff_id, from_home=_from_home(body), dm=DmAt.of(body)
    ).model_dump_json()
    view = reject_modal(
        handoff_id=handoff_id, lead_name=card.name, reasons=deps.reasons, state=state
    )
    open_dialog(client, body, view.to_dict(), what="Reject")


on_reject_button = button(_reject_button, waits_turn=False)  # opens the dialog


def _reject_reason(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """A reason chosen in the reject dialog: the note says "required" at once when that
    reason needs one (and optional again when it does not)."""
    view = body.get("view") or {}
    selected = (body["actions"][0].get("selected_option") or {}).get("value")
    reason = next((r for r in context["deps"].reasons if r.code == selected), None)
    blocks = note_required(view.get("blocks") or [], bool(reason and reason.note_required))
    shown = {
        k: view[k]
        for k in ("type", "callback_id", "private_metadata", "title", "submit", "close")
        if k in view
    }
    try:
        client.views_update(
            view_id=view["id"], hash=view.get("hash"), view={**shown, "blocks": blocks}
        )
    except SlackApiError as exc:  # a newer choice redrew it first (hash_conflict), or it closed
        log.info("Reject dialog not redrawn: %s", exc.response.get("error"))


on_reject_reason = button(_reject_reason, waits_turn=False)  # redraws the dialog


def on_reject_submit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """The reject dialog's submission: validated here, errors shown on the right field."""
    deps = context["deps"]
    values = view["state"]["values"]
    selected = values.get(BlockId.REJECT_REASON, {}).get(ActionId.REJECT_REASON) or {}
    code = (selected.get("selected_option") or {}).get("value")
    note = (values.get(BlockId.REJECT_NOTE, {}).get(ActionId.REJECT_NOTE) or {}).get("value") or ""
    reason = next((r for r in deps.reasons if r.code == code), None)
    problems = decisions.reject_problems(reason=reason, note=note)
    if problems:
        blocks = {"reason": BlockId.REJECT_REASON, "note": BlockId.REJECT_NOTE}
        errors: dict[str, str] = {
            blocks[k]: reject_problem_text(v, reason) for k, v in problems.items()
        }
        ack(response_action="errors", errors=errors)
        return
    assert reason is not None
    state = RejectState.model_validate_json(view["private_metadata"])
    decision = _decide(
        context,
        decisions.reject,
        handoff_id=state.handoff_id,
        actor=Actor(body["user"]["id"]),
        reason=reason,
        note=note,
    )
    if not decision.ok:
        # Modal errors are plain text: "@U123" rather than an unrendered mention.
        text = decision_text(decision, plain_text=True)
        ack(response_action="errors", errors={BlockId.REJECT_REASON: text})
        return
    ack()
    if state.dm is not None:
        user = body["user"]["id"]
        settle_later(client, state.dm, settle_line(decision, user, context["deps"].clock()))
    if state.from_home:
        user = body["user"]["id"]
        publish_home(client=client, context=context, user=user, notice=decision_text(decision))
