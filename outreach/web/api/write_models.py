"""The pydantic models of the API's campaign writes: a definition checked, a preview (texts per
channel and language, SMS segments and cost, the sample's allocation)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DefinitionCheck(_Out):
    """A campaign definition that validates (nothing stored)."""

    valid: bool = Field(description="Always true: a definition that does not validate is a 422.")
    name: str
    languages: list[str]
    channels: list[str]
    questions: int
    warnings: list[str] = Field(description="What `outreach campaign validate` warns of: long SMS, schedule offsets.")


class PreviewText(_Out):
    label: str = Field(description="Which message: intro, a question, its re-ask or reminder, the outro.")
    text: str = Field(description="Exactly as residents on this channel will see it.")
    segments: int | None = Field(description="SMS only: the segments it is billed as.")
    encoding: str | None = Field(description="SMS only: GSM-7 or UCS-2.")


class PreviewTexts(_Out):
    channel: str
    language: str
    messages: list[PreviewText]


class SmsEstimate(_Out):
    residents: dict[str, int] = Field(description="Residents a launch now would text, per language.")
    floor_segments: int = Field(description="The opening and every reminder to all of them.")
    ceiling_segments: int = Field(description="Also every answer of everyone.")
    floor_cost: float
    ceiling_cost: float
    currency: str
    unpriced: list[str] = Field(description="Number prefixes without a price (priced at the highest known).")


class StratumPreview(_Out):
    stratum: str
    share: float = Field(description="Its share of the sample's size (population share, equal, or fixed).")
    eligible: int
    held_back: int = Field(description="Residents fatigue keeps out.")
    wanted: int
    allocated: int = Field(description="To be drawn.")
    short: bool = Field(description="Fewer eligible than wanted: all are drawn, the rest spread over the others.")
    inclusion_probability: float


class SamplePreview(_Out):
    size: int
    allocated: int
    eligible: int
    strata: list[str] = Field(description="The dimensions the sample is stratified by.")
    seed: int | None = Field(description="Null for a definition not created yet that names none.")
    allocation: list[StratumPreview]
    unmatched: dict[str, dict[str, int]] = Field(description="Per dimension, residents whose value matches no stratum.")


class CampaignPreview(_Out):
    campaign_id: int | None = Field(description="The campaign previewed; null for a definition not created.")
    texts: list[PreviewTexts]
    asked: int = Field(description="Residents a launch now would ask (the sample it would draw, if it samples).")
    held_back: int = Field(description="Residents fatigue holds back (OUTREACH_MAX_ASKS in OUTREACH_ASK_WINDOW_DAYS).")
    sms: SmsEstimate | None = Field(description="Null when the campaign does not use SMS.")
    sample: SamplePreview | None = Field(description="Null when the campaign does not sample.")
