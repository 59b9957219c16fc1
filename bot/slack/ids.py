"""Every action_id, block_id and callback_id the app uses, in one place."""

from enum import StrEnum


class ActionId(StrEnum):
    """Buttons and inputs."""

    ACCEPT = "handoff_accept"
    REJECT = "handoff_reject"
    CLAIM = "handoff_claim"
    REJECT_REASON = "reject_reason"
    REJECT_NOTE = "reject_note"
    ESCALATION_REASSIGN = "escalation_reassign"
    ESCALATION_REMIND = "escalation_remind"
    ESCALATION_TAKE = "escalation_take"
    ESCALATION_PICK = "escalation_pick"  # a select: the manager picks the new owner
    FEEDBACK = "handoff_feedback"  # + ":<answer>": one button per answer
    NOT_A_FIT_REASON = "not_a_fit_reason"
    NOT_A_FIT_NOTE = "not_a_fit_note"


class BlockId(StrEnum):
    """Blocks that listeners or validation refer to."""

    DECISION = "handoff_decision"
    REJECT_REASON = "reject_reason_block"
    REJECT_NOTE = "reject_note_block"
    ESCALATION = "escalation_actions"
    NOT_A_FIT_REASON = "not_a_fit_reason_block"
    NOT_A_FIT_NOTE = "not_a_fit_note_block"
    NOTICE_ACTIONS = "notice_actions"  # Accept / Reject on a reminder or a nudge
    FEEDBACK = "feedback_actions"
    SETTLED = "settled"  # the line that replaces a DM's buttons once acted on
    HOME_LEAD = "home_lead"  # + ":<hand-off id>": block ids are unique within a view


class Command(StrEnum):
    """Slash commands (slack-manifest.yml declares them)."""

    HANDOFF = "/handoff"


class CallbackId(StrEnum):
    """Modals."""

    REJECT = "handoff_reject_modal"
    NOT_A_FIT = "handoff_not_a_fit_modal"  # why a lead accepted earlier was not a fit


METADATA_EVENT = "lead_handoff"
