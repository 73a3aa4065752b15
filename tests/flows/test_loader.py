"""Campaign files: a valid one loads; each broken one fails at the exact line:column of its problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from flows.loader import CampaignError, CampaignFileError, load_campaign, load_campaign_file
from flows.model import Campaign

ROOT = Path(__file__).resolve().parents[2]
BROKEN = Path(__file__).parent / "broken"

MINIMAL = """\
name: Minimal
languages: [pl, en]
channels: [sms]
questions:
  - id: visits
    type: yesno
    text: {pl: "Czy?", en: "Did you?"}
"""


def _errors(path: Path) -> list[CampaignError]:
    with pytest.raises(CampaignFileError) as caught:
        load_campaign_file(path)
    return caught.value.errors


@pytest.mark.parametrize(
    ("name", "line", "column", "fragment"),
    [
        ("yaml_syntax", 3, 9, "YAML syntax error: expected ',' or ']'"),
        ("unknown_key", 8, 5, "questions[0]: unknown key 'optons'; did you mean 'options'?"),
        ("unsupported_type", 9, 11, "questions[1].type: question type 'scale' is not supported yet"),
        ("unsupported_schedule", 4, 1, "schedule is not supported yet"),
        ("unsupported_answer_within", 4, 1, "answer_within is not supported yet"),
        ("unsupported_sample", 6, 3, "audience.sample is not supported yet"),
        ("duplicate_id", 8, 9, "questions[1].id: duplicate question id 'visits'"),
        ("duplicate_option", 10, 15, "questions[0].options[1].key: duplicate option key 'weekly'"),
        (
            "unknown_next",
            11,
            11,
            "questions[1].next: unknown question 'why_nott'; known: visits, rating, why_not",
        ),
        ("unknown_next_option", 9, 7, "questions[0].next.maybe: unknown option 'maybe'; options: yes, no"),
        ("missing_translation", 11, 7, "questions[1].text: missing translation for uk"),
        ("cycle", 14, 31, "making a loop (visits -> rating -> visits)"),
        ("empty_options", 8, 14, "questions[0].options: a choice question needs options"),
        ("bad_language", 2, 17, "languages[1]: unknown language 'de'; use one of: pl, en, uk"),
        ("bad_channel", 5, 5, "channels[1]: unknown channel 'whatsapp'; use one of: sms, telegram, email"),
    ],
)
def test_broken_file_points_at_the_problem(name: str, line: int, column: int, fragment: str) -> None:
    path = BROKEN / f"{name}.yaml"
    errors = _errors(path)
    assert len(errors) == 1, errors
    error = errors[0]
    assert (error.source, error.line, error.column) == (str(path), line, column)
    assert fragment in error.message
    assert str(error).startswith(f"{path}:{line}:{column}: ")


def test_all_errors_are_reported_not_only_the_first() -> None:
    errors = _errors(BROKEN / "many_errors.yaml")
    assert [(e.line, e.column) for e in errors] == [(3, 17), (4, 16), (6, 5), (8, 5), (10, 11)]
    messages = "\n".join(e.message for e in errors)
    assert "unknown channel 'pigeon'" in messages
    assert "reask_unclear" in messages
    assert "missing required key 'text'" in messages
    assert "unknown key 'txt'; did you mean 'text'?" in messages
    assert "question type 'number' is not supported yet" in messages


def test_error_string_joins_all_errors() -> None:
    with pytest.raises(CampaignFileError) as caught:
        load_campaign_file(BROKEN / "many_errors.yaml")
    assert str(caught.value).count("\n") == len(caught.value.errors) - 1


def test_the_example_campaign_loads() -> None:
    campaign = load_campaign_file(ROOT / "examples" / "park_orunski.yaml")
    assert campaign.languages == ["pl", "en", "uk"]
    assert campaign.channels == ["sms", "telegram", "email"]
    assert campaign.audience.where == {
        "district": ["Orunia-Św. Wojciech-Lipce", "Orunia Górna-Gdańsk Południe"]
    }
    assert [q.id for q in campaign.questions] == ["visits_park", "priority", "why_not"]
    assert campaign.question("visits_park").next == {"no": "why_not"}
    assert campaign.intro is not None and all("STOP" in text for text in campaign.intro.values())


def test_yaml_1_2_keeps_yes_and_no_as_strings() -> None:
    campaign = load_campaign(
        MINIMAL.replace("[sms]", "[sms, email]")
        + """\
    next: {no: why_not}
  - id: why_not
    type: choice
    text: {pl: "Dlaczego?", en: "Why?"}
    options:
      - {key: no, text: {pl: nie, en: no}}
      - {key: on, text: {pl: on, en: off}}
"""
    )
    assert campaign.questions[0].next == {"no": "why_not"}
    assert [o.key for o in campaign.questions[1].options] == ["no", "on"]
    assert campaign.questions[1].options[1].text == {"pl": "on", "en": "off"}


def test_a_number_where_text_is_expected_suggests_quotes() -> None:
    with pytest.raises(CampaignFileError) as caught:
        load_campaign(MINIMAL.replace("name: Minimal", "name: 2027"), source="x.yaml")
    assert str(caught.value) == "x.yaml:1:7: name: Input should be a valid string; put the value in quotes"


def test_missing_top_level_key_points_at_the_start() -> None:
    with pytest.raises(CampaignFileError) as caught:
        load_campaign(MINIMAL.replace("channels: [sms]\n", ""))
    assert str(caught.value) == "<campaign>:1:1: campaign: missing required key 'channels'"


def test_duplicate_channel_is_refused() -> None:
    with pytest.raises(CampaignFileError, match=r"<campaign>:3:11: channels: channel 'sms' is listed twice"):
        load_campaign(MINIMAL.replace("[sms]", "[sms, sms]"))


def test_duplicate_yaml_key_is_a_syntax_error() -> None:
    with pytest.raises(CampaignFileError, match=r":2:1: YAML syntax error: .*found duplicate key"):
        load_campaign("name: A\nname: B\n")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "the file is empty"),
        (b"# only a comment\n", "the file is empty"),
        (b"name: \xff\xfe broken\n", "not UTF-8"),
        (b"- just\n- a list\n", "must be a mapping"),
    ],
)
def test_unreadable_file_reports_line_1_column_1(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "campaign.yaml"
    path.write_bytes(content)
    [error] = _errors(path)
    assert (error.line, error.column) == (1, 1)
    assert fragment in error.message


def test_missing_file_reports_line_1_column_1(tmp_path: Path) -> None:
    [error] = _errors(tmp_path / "nope.yaml")
    assert (error.line, error.column) == (1, 1)
    assert "cannot read the file" in error.message


def test_the_model_itself_refuses_semantic_problems() -> None:
    # A campaign from JSON (not the loader) is checked too, so the engine never sees a broken graph.
    data = {
        "name": "x",
        "languages": ["en"],
        "channels": ["sms"],
        "questions": [{"id": "a", "type": "yesno", "text": {"en": "?"}, "next": "b"}],
    }
    with pytest.raises(ValidationError, match=r"questions\[0\]\.next: unknown question 'b'"):
        Campaign.model_validate(data)


def test_the_model_itself_refuses_unsupported_features() -> None:
    data = {
        "name": "x",
        "languages": ["en"],
        "channels": ["sms"],
        "schedule": {"close": "2027-03-09"},
        "questions": [{"id": "a", "type": "yesno", "text": {"en": "?"}}],
    }
    with pytest.raises(ValidationError, match="schedule is not supported yet"):
        Campaign.model_validate(data)
