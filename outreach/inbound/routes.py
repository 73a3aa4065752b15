"""What an inbound message is, decided from its sender's row and its text before anything is written.

Pure: the pipeline (outreach.inbound.pipeline) reads who sent a message, routes it here, then writes the
inbound event with the outcome the route already knows (an answer's comes from the flow engine's step,
which needs nothing written), so that most replies need no second statement to set it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum, auto

from channels.base import Inbound
from flows.campaign import Campaign
from flows.engine import FlowState, Step, resume, submit, toggle
from flows.languages import TYPED_LANGUAGE_CODES
from outreach.campaigns.parsed_flows import CampaignDefinitions
from outreach.campaigns.recruitment import ENROLMENT_ATTRIBUTE, RECRUITED_VIA, VIA_SELF_ENROLMENT
from outreach.inbound import enrolment
from outreach.inbound.keywords import Keyword, KeywordMatch, detect_keyword
from storage.inbound import Sender
from storage.tables import ContactAddress, Resident


class Outcome(StrEnum):
    DUPLICATE = "duplicate"
    UNKNOWN_SENDER = "unknown_sender"
    STOPPED = "stopped"
    STOPPED_BY_PROVIDER = "stopped_by_provider"
    STALE_TAP = "stale_tap"
    PICKED = "picked"  # a toggle on a multi question: nothing recorded until its "done"
    TOO_MANY_PICKED = "too_many_picked"
    NOTHING_PICKED = "nothing_picked"
    STARTED = "started"
    HELP = "help"
    LANGUAGE = "language"
    OPTED_OUT = "ignored_opted_out"
    NO_CONVERSATION = "no_conversation"
    CAMPAIGN_CLOSED = "campaign_closed"
    ANSWERED = "answered"
    ENROLLING = "enrolling"
    ENROLLED = "enrolled"
    DECLINED = "declined"
    FAILED = "failed"  # the store refused the input (outreach.inbound.failures): acknowledged, recorded with why
    # Mail without a token we issued (outreach.inbound.unverified_mail): kept, changes no resident.
    UNVERIFIED = "unverified"
    UNVERIFIED_STOP = "unverified_stop"  # a STOP, not answered (unknown or opted-out address, or answered today)
    UNVERIFIED_STOP_LINK = "unverified_stop_link"  # a STOP answered with a one-click unsubscribe link
    # Kept on disk while the store was away (outreach.inbound.spool): acknowledged, applied when it is back.
    SPOOLED = "spooled"


class Way(Enum):
    STRANGER = auto()  # an address no resident has: never answered
    JOINING = auto()  # a stranger's Telegram /start: a self-enrolment begins
    ENROLMENT = auto()  # a resident in the middle of their self-enrolment
    STOPPED_BY_PROVIDER = auto()  # the provider handled a STOP itself
    KEYWORD = auto()  # STOP, START, HELP, a language
    OPTED_OUT = auto()  # anything else from an address that opted out: kept, not counted
    ANSWER = auto()  # a reply to the open conversation (or to one that ended)


@dataclass(frozen=True)
class Route:
    way: Way
    keyword: KeywordMatch | None = None  # KEYWORD
    enrolling: str | None = None  # ENROLMENT: the step the resident is at
    flow: Campaign | None = None  # ANSWER in an open conversation: its campaign's flow,
    step: Step | FlowState | Outcome | None = None  # and what the reply does (step_of)

    def known_outcome(self) -> Outcome | None:
        """The outcome certain before anything is written; None when writing decides it."""
        if self.way is Way.STRANGER:
            return Outcome.UNKNOWN_SENDER
        if self.way is Way.OPTED_OUT:
            return Outcome.OPTED_OUT
        if isinstance(self.step, Outcome):
            return self.step
        if isinstance(self.step, FlowState):
            return Outcome.PICKED
        return Outcome.ANSWERED if self.step is not None else None


def route_of(inbound: Inbound, sender: Sender | None, definitions: CampaignDefinitions, now: datetime) -> Route:
    """Where `inbound` from `sender` (None: a stranger) goes, its engine step included for an answer."""
    if sender is None:
        # Never answer numbers that are not residents' (no SMS to numbers taken from inbound
        # traffic); only a resident's own "/start" from a QR code begins an enrolment.
        joining = inbound.command == "start" and inbound.channel == "telegram"
        return Route(Way.JOINING if joining else Way.STRANGER)
    resident, contact, conversation, record = sender.resident, sender.contact, sender.conversation, sender.campaign
    keyword = keyword_of(inbound)
    enrolling = resident.attributes.get(ENROLMENT_ATTRIBUTE) or _declined_enrolment(inbound, resident, contact)
    if enrolling and (keyword is None or keyword.keyword is Keyword.START):
        return Route(Way.ENROLMENT, keyword, enrolling=str(enrolling))
    if inbound.opted_out_by_provider:
        return Route(Way.STOPPED_BY_PROVIDER)
    if keyword is not None:
        return Route(Way.KEYWORD, keyword)
    if contact.opted_out_at is not None:
        return Route(Way.OPTED_OUT)
    if conversation is None or record is None:
        return Route(Way.ANSWER)  # after the end: the pipeline looks for the conversation that ended
    flow = definitions.flow(record)
    state = FlowState.model_validate(conversation.state)
    return Route(Way.ANSWER, flow=flow, step=step_of(flow, state, inbound, conversation.campaign_id, now))


def step_of(
    flow: Campaign, state: FlowState, inbound: Inbound, campaign_id: int, now: datetime
) -> Step | FlowState | Outcome:
    """What a reply does: an engine step; the new picks of a multi question's toggle; or an
    outcome when a tap counts for nothing (an old question's button, over max_choices, …)."""
    tap = inbound.tap
    if tap is None:
        return resume(flow, state, inbound.text, now)
    if tap.campaign_id != campaign_id or tap.question_id != state.question_id:
        return Outcome.STALE_TAP  # a button on an earlier question: acknowledged, not counted
    if tap.action == "toggle":
        toggled = toggle(flow, state, int(tap.key))
        if toggled is None:
            return Outcome.STALE_TAP
        return Outcome.TOO_MANY_PICKED if toggled.refused else toggled.state
    if tap.action == "submit":
        return submit(flow, state, now) or Outcome.NOTHING_PICKED
    return resume(flow, state, tap.key, now)


def _declined_enrolment(inbound: Inbound, resident: Resident, contact: ContactAddress) -> str | None:
    """A /start from a chat that said no to its self-enrolment begins it again (the "no" told them so);
    the chat's starts are counted across both (outreach.inbound.enrolment.MAX_STARTS)."""
    declined = contact.consent_at is None and resident.attributes.get(RECRUITED_VIA) == VIA_SELF_ENROLMENT
    return enrolment.FIRST_STEP if declined and inbound.command == "start" else None


_COMMANDS = {"stop": Keyword.STOP, "start": Keyword.START, "help": Keyword.HELP, "language": Keyword.LANGUAGE}


def keyword_of(inbound: Inbound) -> KeywordMatch | None:
    """A channel command (Telegram's /stop, /help, /language en) or a whole-message keyword."""
    if inbound.command in _COMMANDS:
        keyword = _COMMANDS[inbound.command]
        language = TYPED_LANGUAGE_CODES.get((inbound.argument or "").strip().lower())
        return KeywordMatch(keyword, language if keyword is Keyword.LANGUAGE else None)
    if inbound.tap is not None:
        return None  # a button is an answer, whatever its text
    return detect_keyword(inbound.text)
