"""Results back to residents: what a campaign tells its respondents once it closes (pure).

An official writes `results_back: {after: close, text: {pl: …, en: …, uk: …}, district: {…}}`. The
texts hold placeholders filled with the campaign's figures when it closes: `{answer:QUESTION}` the
top answer (weighted when the campaign has margins) in the resident's language, `{share:QUESTION}`
its share; the optional `district` text may also say `{district}` and `{district_share:QUESTION}`
(the share of that same answer among the resident's district's respondents) and is added only where
the district's cell is large enough to show. When the shares are not weighted, a sentence says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

ANSWER = "answer"
SHARE = "share"
DISTRICT = "district"
DISTRICT_SHARE = "district_share"
IN_TEXT = (ANSWER, SHARE)
IN_DISTRICT = (ANSWER, SHARE, DISTRICT, DISTRICT_SHARE)
WITH_QUESTION = (ANSWER, SHARE, DISTRICT_SHARE)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

# Said after the figures when the campaign has no margins to weight its respondents to.
UNWEIGHTED = {
    "pl": "(Odsetki wśród osób, które odpowiedziały, bez ważenia.)",
    "en": "(Shares among those who answered, unweighted.)",
    "uk": "(Частки серед тих, хто відповів, без зважування.)",
}
# What the preview fills `{district}` with: one of the longer district names, for an honest length.
PREVIEW_DISTRICT = "Orunia-Św. Wojciech-Lipce"


class ResultsBack(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    after: Literal["close"] = "close"
    text: dict[str, str]  # language -> text with {answer:ID} and {share:ID}
    district: dict[str, str] | None = None  # added where the resident's district may be shown


@dataclass(frozen=True)
class Placeholder:
    written: str  # as written between the braces, e.g. "share:priority"
    name: str
    question_id: str | None


def _parts(written: str) -> tuple[str, str | None]:
    name, _, question = written.partition(":")
    return name.strip(), question.strip() or None


def value_key(name: str, question_id: str | None = None) -> str:
    """How a placeholder's value is keyed for `render`: "share:priority", "district"."""
    return name if question_id is None else f"{name}:{question_id}"


def placeholders(text: str) -> Iterator[Placeholder]:
    for match in _PLACEHOLDER.finditer(text):
        yield Placeholder(match[1], *_parts(match[1]))


def stray_brace(text: str) -> bool:
    """A { or } that opens or closes no placeholder."""
    return "{" in _PLACEHOLDER.sub("", text) or "}" in _PLACEHOLDER.sub("", text)


def question_ids(results_back: ResultsBack) -> list[str]:
    """The questions whose figures the texts use, in the order first written."""
    texts = [*results_back.text.values(), *(results_back.district or {}).values()]
    found = [p.question_id for text in texts for p in placeholders(text) if p.question_id is not None]
    return list(dict.fromkeys(found))


def uses_district(results_back: ResultsBack) -> bool:
    return results_back.district is not None


def render(text: str, values: Mapping[str, str]) -> str:
    """`text` with each placeholder replaced by its value (keyed as written, e.g. "share:priority")."""
    return _PLACEHOLDER.sub(lambda match: values[value_key(*_parts(match[1]))], text)


def compose(
    results_back: ResultsBack, language: str, values: Mapping[str, str], *, district: bool, weighted: bool
) -> str:
    """The whole message in `language`: the text, the district's sentence where it may be shown, and
    the note that the shares are unweighted where they are."""
    parts = [render(results_back.text[language], values)]
    if district and results_back.district is not None:
        parts.append(render(results_back.district[language], values))
    if not weighted:
        parts.append(UNWEIGHTED[language])
    return " ".join(part.strip() for part in parts)


def percent(share: float) -> str:
    return f"{int(share * 100 + 0.5)}%"  # half up: 62.5% is 63%, as people round
