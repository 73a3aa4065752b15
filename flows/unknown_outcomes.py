"""What a campaign does with a send whose outcome is unknown and the provider cannot settle (issue 18).

`on_unknown: {question: resend, reminder: resend, closing: give_up, results_back: give_up}` in the
campaign file, per message kind. A resident asked twice answers once, but one never asked is lost: a
question and a reminder are resent by default; a closing thank-you or the results sent back once the
campaign closed are given up by default (a copy too many is worse than one missing)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

UnknownAction = Literal["resend", "give_up"]
UNKNOWN_ACTIONS: tuple[UnknownAction, ...] = get_args(UnknownAction)


def _an_action(value: Any) -> Any:
    if value in UNKNOWN_ACTIONS:
        return value
    raise PydanticCustomError(
        "on_unknown",
        "on_unknown is resend (may reach the resident twice) or give_up (may miss them); not '{value}'",
        {"value": str(value)},
    )


Action = Annotated[UnknownAction, BeforeValidator(_an_action)]


class OnUnknown(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    question: Action = "resend"
    reminder: Action = "resend"
    closing: Action = "give_up"
    results_back: Action = "give_up"

    def action(self, kind: str) -> UnknownAction:
        """The action for a message kind (outreach.outbound.unknown_sends.message_kind); give_up for
        anything else (a reply to STOP or HELP)."""
        chosen: UnknownAction = getattr(self, kind) if kind in type(self).model_fields else "give_up"
        return chosen
