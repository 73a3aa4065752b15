"""A campaign whose parts agree: the definition of `flows.model` plus the checks that need all of it
(`flows.validate`), run whenever a campaign is built, from a file or from JSON."""

from __future__ import annotations

from pydantic import ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from flows.model import SKIP_SEMANTIC, CampaignDefinition
from flows.validate import find_problems


class Campaign(CampaignDefinition):
    @model_validator(mode="after")
    def _semantic(self, info: ValidationInfo) -> Campaign:
        if info.context and info.context.get(SKIP_SEMANTIC):
            return self
        problems = find_problems(self)
        if problems:
            raise PydanticCustomError("campaign", "{problems}", {"problems": "; ".join(str(p) for p in problems)})
        return self
