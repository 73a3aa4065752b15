"""The JSON of residents import jobs (outreach.web.api.import_job_routes)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class RejectedLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line: int = Field(description="The line of the file the row starts on (the header is line 1).")
    message: str = Field(description="What is wrong; names the field, never its value.")


class ImportJobState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    status: Literal["queued", "running", "done", "failed"]
    rows: int = Field(description="Data rows read so far.")
    accepted: int = Field(description="Rows taken: a resident added, or one already known (not said which).")
    imported: int | None = Field(description="Rows that added a resident (admin readers only, else null).")
    updated: int | None = Field(description="Rows that updated a known resident (admin readers only, else null).")
    skipped: int | None = Field(
        description="Rows that left a known resident as they were (admin readers only, else null)."
    )
    rejected: int = Field(description="Rows refused; the first 1,000 are in `errors`.")
    errors: list[RejectedLine]
    failure: str | None = Field(description="Why a failed job failed (the rows counted before it were stored).")
    size_bytes: int = Field(description="The size of the uploaded file.")
    created_at: datetime
    finished_at: datetime | None
