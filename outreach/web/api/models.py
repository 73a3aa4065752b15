"""The pydantic models of the REST API: handlers validate and answer with these, and the OpenAPI
document is generated from the very same classes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from outreach.participation.models import CampaignParticipation
from outreach.results.free_text import FreeTextQuestion
from outreach.results.unweighted import QuestionFigures
from outreach.results.weighted_models import WeightedResults
from outreach.web.api.auth import LONGEST_LIFETIME

MAX_ID = 2**31 - 1
LONGEST_LIFETIME_SECONDS = int(LONGEST_LIFETIME.total_seconds())
CampaignStatusName = str  # draft, scheduled, active, paused, closed
Scope = Literal["campaigns:read", "responses:read", "responses:rows", "campaigns:write", "residents:write", "admin"]
AnswerValue = str | int | float | list[str]
AttributeValue = str | int | float | bool | None


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(_Out):
    at: str = Field(description="Where the problem is: a dotted path into the body or the parameter name.")
    message: str
    path: str | None = Field(
        default=None, description="A campaign definition's error: the key it concerns (questions[0].text)."
    )
    line: int | None = Field(default=None, description="A campaign definition's error: its line in the body, from 1.")
    column: int | None = Field(default=None, description="A campaign definition's error: its column, from 1.")


class ErrorInfo(_Out):
    code: str = Field(description="Stable, machine-readable: e.g. unauthorized, insufficient_scope, rate_limited.")
    message: str = Field(description="What went wrong, in plain words.")
    details: list[ErrorDetail] | None = None


class ErrorBody(_Out):
    """Every error the API answers, whatever its status."""

    error: ErrorInfo


# --- campaigns -------------------------------------------------------------------------------


class QuestionBrief(_Out):
    id: str
    type: str = Field(description="yesno, choice, multi, scale, number or text.")


class CampaignInfo(_Out):
    id: int
    slug: str
    name: str
    status: CampaignStatusName
    languages: list[str]
    channels: list[str]
    questions: list[QuestionBrief]
    created_at: datetime
    starts_at: datetime | None
    closes_at: datetime | None
    launched_at: datetime | None
    closed_at: datetime | None


class CampaignList(_Out):
    data: list[CampaignInfo]


class AudienceCounts(_Out):
    """How far the launch has gone through the campaign's audience."""

    launch: str | None = Field(
        description="null: not launched yet; opening: some of the audience has no conversation yet (a launch"
        " cut short is finished by the service); opened: everyone it went past has a conversation or was skipped."
    )
    opened: int = Field(description="Residents with a conversation in this campaign.")
    skipped: int = Field(description="Residents the launch could not open (the database refused their data).")
    remaining: int = Field(description="Audience members the launch has not reached yet.")
    held_back: int = Field(
        description="Residents fatigue held back: asked by OUTREACH_MAX_ASKS other campaigns in the last"
        " OUTREACH_ASK_WINDOW_DAYS days (the launch's latest pass; a sampled campaign: when it drew)."
    )


class CampaignProgress(_Out):
    id: int
    slug: str
    status: CampaignStatusName
    contacted: int = Field(description="Residents whose first question went out.")
    respondents: int = Field(description="Residents who answered at least one question.")
    answers: int
    response_rate: float = Field(description="respondents / contacted (0 when nobody was contacted yet).")
    conversations: dict[str, int] = Field(description="Conversations by status (waiting, active, completed, ...).")
    messages: dict[str, int] = Field(description="Outgoing messages by status (queued, sent, failed, ...).")
    unknown_outcomes: dict[str, int] = Field(
        default_factory=dict,
        description="Sends whose outcome was lost, as reconciled: confirmed (the provider had it), not_seen"
        " (it never had it: queued again), resent (the campaign's on_unknown policy sent it again), given_up.",
    )
    audience: AudienceCounts


class LaunchReport(_Out):
    id: int
    status: CampaignStatusName
    conversations_started: int = Field(description="Conversations this launch opened.")
    skipped: int = Field(description="Residents it could not open (`outreach campaign status` names them).")
    finished: bool = Field(
        description="false: another worker is opening the rest of the audience (GET …/status shows how far)."
    )
    held_back: int = Field(
        description="Residents fatigue held back: asked by OUTREACH_MAX_ASKS other campaigns in the last"
        " OUTREACH_ASK_WINDOW_DAYS days. Launched again later, it asks those the window then allows."
    )


# --- answers ---------------------------------------------------------------------------------


class ResponsesQuery(BaseModel):
    """Query of GET /campaigns/{id}/responses; allowlisted attributes are further filters."""

    model_config = ConfigDict(extra="allow")

    limit: int = Field(default=100, ge=1, le=1000, description="Answers per page.")
    cursor: str | None = Field(
        default=None, max_length=200, description="`next_cursor` of the previous page: the next page."
    )
    since: str | None = Field(
        default=None,
        max_length=200,
        description="A `watermark` kept from an earlier sync: only answers committed after it.",
    )
    question: str | None = Field(default=None, min_length=1, max_length=64, description="Only this question.")
    channel: str | None = Field(
        default=None, min_length=1, max_length=16, description="Only answers from this channel."
    )
    language: str | None = Field(
        default=None, min_length=1, max_length=8, description="Only respondents of this language."
    )


class Answer(_Out):
    """One answer, as other systems read it: a pseudonymous respondent, never an address."""

    campaign: str = Field(description="The campaign's slug.")
    question: str
    respondent: str = Field(description="Pseudonym: stable within this campaign, unlinkable across campaigns.")
    value: AnswerValue = Field(
        description="Option key (yesno, choice), list of option keys (multi), number (scale, number),"
        " or the answer's text (text questions only)."
    )
    channel: str
    answered_at: datetime = Field(
        description="When it was answered, in UTC, cut down to the hour (or the day: OUTREACH_ROW_TIME_PRECISION):"
        " an exact time could be matched with a provider's log of who wrote when."
    )
    language: str = Field(description="The respondent's language when answering.")
    attributes: dict[str, AttributeValue] = Field(
        description="The respondent's allowlisted attributes only, as they were when answering."
    )


class AnswerPage(_Out):
    data: list[Answer]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null when caught up.")
    watermark: str = Field(
        description="Keep it: pass as `since` in a later sync to get only answers committed after this page."
    )


# --- results ---------------------------------------------------------------------------------


class ResultsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Break results down by `language`, `recruited_via` (import or self-enrolment) or an"
        " allowlisted attribute; small cells are suppressed. With `weights`: the dimensions to weight on,"
        " comma-separated (default: every dimension of the margins).",
    )
    weights: str | None = Field(
        default=None,
        min_length=1,
        max_length=120,
        description="Weight the results to these margins (by name); the figures come under `weighted`.",
    )
    trim: float | None = Field(
        default=None, gt=1, description="With `weights`: cap weights at this many times the mean (re-raked)."
    )
    collapse: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="With `weights`: weight a thin value together with a neighbour, as `outreach results --collapse`"
        " does: DIMENSION:VALUE=NEIGHBOUR, several separated by commas (e.g. district:Oliwa=Przymorze).",
    )
    thin: Literal["weight", "leave"] | None = Field(
        default=None,
        description="With `weights`: values with fewer than 10 respondents are weighted like the rest (`weight`, the"
        " default, with a warning) or left unweighted (`leave`: weighted to their share of the sample, marked"
        " `left_unweighted` in `weighted.strata` and said in `weighted.warnings`), as `outreach results --thin`.",
    )


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weights: str | None = Field(
        default=None,
        min_length=1,
        max_length=120,
        description="Add a last column `weight`: each respondent's weight to these margins (empty: left out).",
    )
    by: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="With `weights`: the dimensions to weight on, comma-separated (default: all of the margins').",
    )
    trim: float | None = Field(
        default=None, gt=1, description="With `weights`: cap weights at this many times the mean (re-raked)."
    )


class GroupQuestionFigures(_Out):
    id: str
    suppressed: bool = Field(description="True when fewer than k in this group answered it (figures withheld).")
    answered: int | None
    counts: dict[str, int | None] | None = Field(description="A null count is a suppressed small cell.")
    mean: float | None


class Group(_Out):
    value: str | None = Field(description="The attribute's value; null for respondents without one.")
    suppressed: bool = Field(description="True when the group is too small to show (figures withheld).")
    respondents: int | None
    questions: list[GroupQuestionFigures]


class Breakdown(_Out):
    by: str
    k: int = Field(description="Cells of fewer than k respondents are suppressed.")
    groups: list[Group]


class CampaignResults(_Out):
    campaign: str
    contacted: int
    respondents: int
    response_rate: float
    questions: list[QuestionFigures] = Field(
        description="Per question, unweighted. Empty with `weights`: `weighted.questions` then gives each"
        " answer's n and unweighted share beside the weighted one (the results are read once)."
    )
    breakdown: Breakdown | None
    weighted: WeightedResults | None = Field(
        default=None,
        description="With `weights`: the results weighted to those margins, as `outreach results --weights"
        " --format json` prints them (then `by` names the dimensions weighted on and `breakdown` is null).",
    )
    free_text: list[FreeTextQuestion] = Field(
        default_factory=list,
        description="Per text question: answers grouped by the words they share, with counts and up to three"
        " examples each, phone numbers, e-mail addresses and PESEL numbers masked.",
    )
    participation: CampaignParticipation | None = Field(
        default=None,
        description="Who answered: the campaign's first-timers and how many campaigns its respondents have"
        " answered up to it (top 1%/10% shares, Gini), split by channel, district and recruitment source;"
        " and its answers from the sampled beside the self-enrolled, with the difference per question."
        " Small groups suppressed.",
    )


# --- residents -------------------------------------------------------------------------------


class ResidentsOptions(BaseModel):
    """How residents are added: by a batch's body, or by an import job's query."""

    model_config = ConfigDict(extra="forbid")

    region: str | None = Field(
        default=None, pattern="^[A-Za-z]{2}$", description="Region of phone numbers written without +prefix."
    )
    label: str = Field(
        default="api",
        min_length=1,
        max_length=120,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="Recruitment source of the residents added (their attribute recruitment_source).",
    )
    on_match: Literal["skip", "update", "merge"] = Field(
        default="skip",
        description="A resident who already has one of a row's addresses: `skip` leaves them as they were;"
        " `update` sets their language, attributes and the consent of addresses they have; `merge` also"
        " attaches the row's new addresses to them. Other than `skip` needs an admin token.",
    )


class ResidentsBatch(ResidentsOptions):
    """Residents in the fields of the residents CSV: phone, email, telegram_chat_id, language,
    consent_source, consent_at, and any other field as an attribute."""

    residents: list[dict[str, str | None]] = Field(min_length=1, max_length=1000)


class RejectedResident(_Out):
    index: int = Field(description="Position of the resident in the batch, from 0.")
    message: str = Field(description="What is wrong; names the field, never its value.")


class ResidentsImported(_Out):
    accepted: int = Field(
        description="Residents taken: added, or already known (whether a resident was known is not said)."
    )
    rejected: list[RejectedResident]


# --- tokens ----------------------------------------------------------------------------------


class TokenInfo(_Out):
    id: int
    prefix: str = Field(description="The first characters of the token, to recognise it.")
    label: str
    scopes: list[str]
    campaign_id: int | None = Field(description="When set, the token sees only this campaign.")
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="Updated at most every 10 minutes.")
    expires_at: datetime | None = Field(description="From then on the token answers 401; null: until revoked.")


class TokenList(_Out):
    data: list[TokenInfo]


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=120, pattern=r"^[^\x00]*$")
    scopes: list[Scope] = Field(min_length=1)
    campaign_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    expires_in: int | None = Field(
        default=None,
        ge=60,
        le=LONGEST_LIFETIME_SECONDS,
        description="Seconds the token lives (at most ten years); omitted or null: until revoked.",
    )


class IssuedTokenInfo(TokenInfo):
    token: str = Field(description="Shown this once; only its hash is kept.")


# --- audit log -------------------------------------------------------------------------------


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=100, ge=1, le=1000, description="Entries per page.")
    cursor: str | None = Field(
        default=None, max_length=200, description="`next_cursor` of the previous page: the next (older) page."
    )
    action: str | None = Field(
        default=None,
        min_length=1,
        max_length=48,
        pattern=r"^[a-z_]+(\.[a-z_]+)*\.?$",
        description="Only this action (campaign.launch), or every action under a prefix ending in a dot (campaign.).",
    )
    since: datetime | None = Field(default=None, description="Only entries at or after this time.")
    until: datetime | None = Field(default=None, description="Only entries before this time.")


class AuditActor(_Out):
    kind: Literal["token", "cli", "official", "service", "visitor"] = Field(
        description="token: an API token; cli: an operator at the command line; official: a signed-in official"
        " (or the account a refused login named); service: a scheduled job of the service; visitor: nobody"
        " signed in (a refused SSO login that named no account)."
    )
    id: str = Field(description="The token's or official's id, the operator's OS user name, or the job's name.")
    label: str = Field(description="The token's label, the official's e-mail, or the operator's or job's name.")


class AuditTarget(_Out):
    kind: str = Field(description="campaign, token, residents, …")
    id: str | None


class AuditRecord(_Out):
    """One action: who, when, what, on what; never the data itself."""

    id: int
    at: datetime
    actor: AuditActor
    action: str = Field(description="e.g. campaign.create, campaign.launch, residents.import, export, token.revoke.")
    target: AuditTarget | None
    details: dict[str, str | int | float | bool | list[str] | list[int] | None] = Field(
        description="Ids, counts and options of the action; never an address, an answer or a token."
    )


class AuditPage(_Out):
    data: list[AuditRecord] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for older entries; null at the oldest.")
