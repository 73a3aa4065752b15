"""Property-based tests of the campaign file reader (issue 20): whatever an official's editor saves,
`load_campaign` returns a campaign or raises CampaignFileError whose every error points at a line and
column inside the file; nothing else escapes it.

The inputs are the example campaigns damaged by hypothesis (lines dropped, copied or swapped, text
thrown in at any place) and plain arbitrary text, so both the YAML reader and the validation behind it
are reached."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.campaign import Campaign
from flows.loader import CampaignFileError, load_campaign

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))
ORIGINALS = [path.read_text(encoding="utf-8") for path in EXAMPLES]
# Characters YAML gives meaning to, and a few that break text elsewhere (NUL, a lone surrogate, RTL mark).
YAML_NOISE = st.text(alphabet=[*":-?[]{}#&*!|>'\"%@`,\t\n ", "\x00", "\ud800", "\u202e", "ż"], max_size=12)


def assert_loads_or_points_inside(text: str) -> None:
    try:
        campaign = load_campaign(text, "campaign.yaml")
    except CampaignFileError as error:
        lines = max(1, len(text.splitlines()))
        assert error.errors, "a refused file must say why"
        for found in error.errors:
            assert found.source == "campaign.yaml"
            assert 1 <= found.line <= lines + 1, (found, lines)
            assert found.column >= 1 and found.message.strip(), found
    else:
        assert isinstance(campaign, Campaign)


@st.composite
def damaged_examples(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(ORIGINALS)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(["drop", "copy", "swap", "insert", "cut"]))
        if operation == "drop":
            del lines[at]
        elif operation == "copy":
            lines.insert(draw(st.integers(0, len(lines))), lines[at])
        elif operation == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif operation == "insert":
            column = draw(st.integers(0, len(lines[at])))
            lines[at] = lines[at][:column] + draw(YAML_NOISE) + lines[at][column:]
        else:
            lines[at] = lines[at][: draw(st.integers(0, len(lines[at])))]
    return "\n".join(lines) + "\n"


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_examples())
def test_a_damaged_campaign_file_loads_or_points_at_a_place_inside_it(text: str) -> None:
    assert_loads_or_points_inside(text)


@settings(deadline=None, max_examples=150)
@given(st.text(max_size=300))
def test_any_text_loads_or_points_at_a_place_inside_it(text: str) -> None:
    assert_loads_or_points_inside(text)


def test_the_examples_themselves_load() -> None:
    """The positive control: the unharmed examples are campaigns."""
    assert len(ORIGINALS) >= 3
    for text in ORIGINALS:
        assert isinstance(load_campaign(text), Campaign)
