"""Campaign files: a valid one loads; each broken one fails at the exact line:column of its problem."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from flows.campaign import Campaign
from flows.loader import CampaignError, CampaignFileError, load_campaign, load_campaign_file
from flows.model import FixedAllocation, Reminders

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


BROKEN_FILES = [
    ("yaml_syntax", 3, 9, "YAML syntax error: expected ',' or ']'"),
    ("unknown_key", 8, 5, "questions[0]: unknown key 'optons'; did you mean 'options'?"),
    ("sample_size_and_share", 6, 30, "audience.sample.share: give the sample's size or its share"),
    ("sample_without_margins", 7, 13, "audience.sample.strata: proportional allocation needs the population's margins"),
    ("sample_fixed_size", 6, 11, "audience.sample.size: the fixed counts add up to 70, not 100"),
    ("sample_bad_allocation", 8, 17, "allocation is proportional, equal, or {fixed: {stratum: count, …}}; not 'quota'"),
    ("reminders_bad_strategy", 5, 23, "reminders.strategy: strategy is uniform (every silent resident alike) or"),
    ("reminders_lagging_without_strata", 8, 13, "reminders.strategy: lagging_strata compares the response rates"),
    ("reminders_unscheduled", 6, 1, "reminders: no reminder is scheduled, so this would send none"),
    ("results_back_text_question", 9, 9, "results_back.text.pl: 'idea' is a text question: it has no top answer"),
    ("results_back_district_in_text", 8, 9, "{district_share:visits} goes in results_back.district, which is added"),
    ("results_back_unknown_question", 9, 9, "results_back.text.en: unknown question 'visit' in {share:visit}"),
    ("results_back_missing_translation", 9, 5, "results_back.district: missing translation for uk"),
    ("results_back_after_open", 7, 10, "results_back.after: Input should be 'close'"),
    ("on_unknown_bad_action", 6, 12, "on_unknown.closing: on_unknown is resend (may reach the resident twice)"),
    ("on_unknown_unknown_kind", 4, 32, "on_unknown: unknown key 'reminders'; did you mean 'reminder'?"),
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
    ("bad_channel", 5, 5, "channels[1]: unknown channel 'fax'; use one of: sms, whatsapp, telegram, email"),
    ("whatsapp_without_template", 5, 5, "channels[1]: whatsapp needs an approved template for the first message"),
    ("scale_min_max", 9, 10, "questions[0].max: max (1) must be greater than min (5)"),
    ("scale_too_long", 9, 10, "a scale spans at most 10 steps (max - min <= 10), 1..100 spans 99"),
    ("number_min_max", 10, 10, "questions[0].max: max (10) must be greater than min (10)"),
    ("bad_duration", 5, 16, "answer_within: '48 hours' is not a duration; write a whole number and a unit"),
    ("bad_reminder", 5, 20, "schedule.reminders[1]: 'tomorrow' is not a duration"),
    ("naive_datetime", 5, 10, "schedule.start: '2027-03-02T10:00:00' has no time zone; give an offset"),
    ("close_before_start", 6, 10, "schedule.close: close (2027-03-02T20:00:00+01:00) must be after start"),
    ("bad_quiet_hours", 6, 16, "schedule.quiet_hours: '21:00-25:00' is not a quiet-hours window"),
    (
        "next_dict_on_number",
        8,
        11,
        "questions[0].next: branching by answer works for yesno, choice and scale questions",
    ),
    ("max_choices_too_big", 12, 18, "max_choices is 5 but there are only 3 options"),
    ("scale_label_translation", 11, 11, "questions[0].high: missing translation for en"),
    ("unknown_scale_branch", 12, 7, "questions[0].next.6: unknown scale value '6'; scale values: 1, 2"),
    ("misplaced_key", 10, 5, "'options' is for choice and multi questions; remove it from this scale"),
    ("empty_multi_options", 8, 14, "questions[0].options: a multi question needs options"),
    (
        "reminder_after_answer_within",
        8,
        7,
        "schedule.reminders[1]: a reminder after 3d comes when answer_within (2d) has run out",
    ),
    # Refused at the first anchor, before a single alias is expanded (10^7 strings on the old loader).
    ("alias_bomb", 10, 5, "YAML anchors and aliases (&name, *name) are not allowed in a campaign file"),
]


@pytest.mark.parametrize(("name", "line", "column", "fragment"), BROKEN_FILES)
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
    assert "questions[1].type: Input should be 'yesno', 'choice', 'multi', 'scale', 'number' or 'text'" in (messages)


def test_error_string_joins_all_errors() -> None:
    with pytest.raises(CampaignFileError) as caught:
        load_campaign_file(BROKEN / "many_errors.yaml")
    assert str(caught.value).count("\n") == len(caught.value.errors) - 1


def test_the_example_campaign_loads() -> None:
    campaign = load_campaign_file(ROOT / "examples" / "park_orunski.yaml")
    assert campaign.languages == ["pl", "en", "uk"]
    assert campaign.channels == ["sms", "telegram", "email"]
    assert campaign.audience.where == {"district": ["Orunia-Św. Wojciech-Lipce", "Orunia Górna-Gdańsk Południe"]}
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


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        # An anchor, then an alias of it: the second question's text is the first one's.
        (
            MINIMAL.replace('text: {pl: "Czy?"', 'text: &t {pl: "Czy?"') + "  - id: b\n    type: yesno\n    text: *t\n",
            7,
            11,
        ),
        (MINIMAL + "  - id: b\n    type: yesno\n    text: *t\n", 10, 11),  # an alias of nothing
        (MINIMAL.replace("[sms]", "&c [sms]"), 3, 11),  # an anchor that nothing uses
        (MINIMAL + "defaults: &d {type: yesno}\n", 8, 11),
    ],
)
def test_anchors_and_aliases_are_refused_where_they_are(text: str, line: int, column: int) -> None:
    with pytest.raises(CampaignFileError) as caught:
        load_campaign(text, source="x.yaml")
    [error] = caught.value.errors
    assert (error.line, error.column) == (line, column)
    assert error.message.startswith("YAML anchors and aliases (&name, *name) are not allowed in a campaign file")


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        # 20,000 brackets raised RecursionError after seconds; the error points at the 33rd level.
        ("name: x\nquestions: " + "[" * 20_000 + "]" * 20_000 + "\n", 2, 43),
        (MINIMAL + "    extra:\n" + "".join("  " * (level + 3) + f"k{level}:\n" for level in range(40)), 37, 63),
    ],
)
def test_nesting_is_capped_where_it_gets_too_deep(text: str, line: int, column: int) -> None:
    with pytest.raises(CampaignFileError) as caught:
        load_campaign(text, source="x.yaml")
    [error] = caught.value.errors
    assert (error.line, error.column) == (line, column)
    assert error.message == "the file nests more than 32 levels deep; a campaign needs only a few"


def test_text_answers_have_a_length_cap() -> None:
    text = MINIMAL.replace("type: yesno", "type: text\n    max_length: 1000000000")
    with pytest.raises(CampaignFileError) as caught:
        load_campaign(text, source="x.yaml")
    [error] = caught.value.errors
    assert (error.line, error.column) == (7, 17)
    assert "less than or equal to 5000" in error.message


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


def test_a_sample_is_read_from_the_file() -> None:
    campaign = load_campaign_file(Path(__file__).parent / "campaigns" / "sampled.yaml")
    sample = campaign.audience.sample
    assert sample is not None
    assert (sample.size, sample.share, sample.strata) == (1200, None, ["district", "age_band"])
    assert (sample.allocation, sample.margins, sample.seed) == ("proportional", "gdansk-districts", 2026)
    assert load_campaign(MINIMAL).audience.sample is None


def test_fixed_counts_set_the_size() -> None:
    text = MINIMAL + "audience:\n  sample: {strata: [district], allocation: {fixed: {Oliwa: 40, Osowa: 2}}}\n"
    sample = load_campaign(text).audience.sample
    assert sample is not None and sample.size is None
    assert sample.allocation == FixedAllocation(fixed={"Oliwa": 40, "Osowa": 2})


def test_reminders_are_uniform_unless_the_file_says_otherwise() -> None:
    assert load_campaign(MINIMAL).reminders == Reminders(strategy="uniform", limit=None)
    assert not load_campaign(MINIMAL).reminders.shared_out  # every silent resident, as before
    text = MINIMAL + (
        "schedule: {reminders: [24h]}\n"
        "audience: {sample: {size: 100, strata: [district], allocation: equal}}\n"
        "reminders: {strategy: lagging_strata, limit: 40}\n"
    )
    campaign = load_campaign(text)
    assert campaign.reminders == Reminders(strategy="lagging_strata", limit=40)
    assert campaign.reminders.shared_out
    assert Campaign.model_validate(campaign.model_dump(mode="json")).reminders == campaign.reminders  # as stored


def test_the_model_itself_refuses_a_broken_sample() -> None:
    # A campaign from JSON (a stored definition, the API) is checked as a file is.
    data = {
        "name": "x",
        "languages": ["en"],
        "channels": ["sms"],
        "audience": {"sample": {"strata": ["district"]}},
        "questions": [{"id": "a", "type": "yesno", "text": {"en": "?"}}],
    }
    with pytest.raises(ValidationError, match=r"audience\.sample: a sample needs its size"):
        Campaign.model_validate(data)


def test_every_broken_file_is_tested() -> None:
    tested = {row[0] for row in BROKEN_FILES} | {"many_errors"}
    assert {p.stem for p in BROKEN.glob("*.yaml")} == tested


CAMPAIGNS = sorted((ROOT / "examples").glob("*.yaml")) + sorted((Path(__file__).parent / "campaigns").glob("*.yaml"))


@pytest.mark.parametrize("path", CAMPAIGNS, ids=[p.stem for p in CAMPAIGNS])
def test_a_stored_campaign_validates_to_the_same_campaign(path: Path) -> None:
    # Callers store `model_dump(mode="json", exclude_unset=True)` and validate it again on every use.
    campaign = load_campaign_file(path)
    stored = campaign.model_dump(mode="json", exclude_unset=True)
    assert Campaign.model_validate(stored) == campaign
    assert Campaign.model_validate_json(campaign.model_dump_json(exclude_unset=True)) == campaign
    assert Campaign.model_validate(campaign.model_dump()) == campaign  # a full dump carries every key


def test_the_campaign_with_every_type_loads() -> None:
    campaign = load_campaign_file(Path(__file__).parent / "campaigns" / "all_types.yaml")
    plus_one = timezone(timedelta(hours=1))
    assert campaign.schedule.start == datetime(2027, 3, 2, 10, 0, tzinfo=plus_one)
    assert campaign.schedule.close == datetime(2027, 3, 9, 20, 0, tzinfo=plus_one)
    assert campaign.schedule.quiet_hours == "22:00-07:30"
    assert campaign.schedule.reminders == [timedelta(hours=12), timedelta(hours=36)]
    assert campaign.answer_within == timedelta(hours=48)
    assert [q.type for q in campaign.questions] == ["yesno", "scale", "text", "multi", "number", "choice"]
    rating = campaign.question("rating")
    assert rating.next == {"1": "what_wrong", "2": "what_wrong", "other": "priorities"}
    assert rating.low == {"pl": "bardzo źle", "en": "very bad", "uk": "дуже погано"}
    assert list(rating.scale_values()) == [1, 2, 3, 4, 5]
    assert campaign.question("priorities").max_choices == 2
    times = campaign.question("times")
    assert (times.min, times.max, times.integer) == (0, 31, True)
    assert campaign.question("what_wrong").max_length == 200
    stored = campaign.model_dump(mode="json", exclude_unset=True)
    assert stored["answer_within"] == "2d"
    assert stored["schedule"]["reminders"] == ["12h", "36h"]
    assert stored["schedule"]["start"] == "2027-03-02T10:00:00+01:00"


def test_schedule_defaults_keep_nights_quiet() -> None:
    campaign = load_campaign(MINIMAL)
    assert campaign.schedule.quiet_hours == "21:00-08:00"
    assert (campaign.schedule.start, campaign.schedule.close, campaign.schedule.reminders) == (None, None, [])
    assert campaign.answer_within is None
    assert "schedule" not in campaign.model_dump(mode="json", exclude_unset=True)
    off = load_campaign(MINIMAL + "schedule: {quiet_hours: null}\n")
    assert off.schedule.quiet_hours is None
    assert Campaign.model_validate(off.model_dump(mode="json", exclude_unset=True)).schedule.quiet_hours is None


@pytest.mark.parametrize(
    ("written", "expected", "dumped"),
    [
        ("90s", timedelta(seconds=90), "90s"),
        ("30m", timedelta(minutes=30), "30m"),
        ("48h", timedelta(hours=48), "2d"),
        ("36h", timedelta(hours=36), "36h"),
        ("2d", timedelta(days=2), "2d"),
        ("1h30m", timedelta(minutes=90), "90m"),
        (" 24 H ", timedelta(hours=24), "1d"),
    ],
)
def test_durations(written: str, expected: timedelta, dumped: str) -> None:
    campaign = load_campaign(MINIMAL + f"answer_within: '{written}'\n")
    assert campaign.answer_within == expected
    assert campaign.model_dump(mode="json", exclude_unset=True)["answer_within"] == dumped


@pytest.mark.parametrize("written", ["48", "0h", "-5m", "48 hours", "h", "1.5h", "1w"])
def test_bad_durations(written: str) -> None:
    with pytest.raises(CampaignFileError, match=r"<campaign>:8:16: answer_within: .* is not a duration"):
        load_campaign(MINIMAL + f"answer_within: {written}\n")


@pytest.mark.parametrize(
    ("written", "fragment"),
    [
        ("2027-03-02", "'2027-03-02' is a date alone; give a time and an offset"),
        ("2027-03-02T10:00", "'2027-03-02T10:00' has no time zone; give an offset, e.g. +01:00"),
        ("next monday", "'next monday' is not a date and time"),
        ("'2027-03-02T10:00:00'", "has no time zone"),
    ],
)
def test_bad_schedule_times(written: str, fragment: str) -> None:
    with pytest.raises(CampaignFileError) as caught:
        load_campaign(MINIMAL + f"schedule:\n  start: {written}\n")
    [error] = caught.value.errors
    assert (error.line, error.column) == (9, 10)
    assert fragment in error.message


@pytest.mark.parametrize(
    ("window", "kept"),
    [
        ("21:00-08:00", "21:00-08:00"),
        ("13:00-14:30", "13:00-14:30"),
        ("00:00-06:00", "00:00-06:00"),
        ("22:00 - 7:00", "22:00-07:00"),
    ],
)
def test_quiet_hours_windows(window: str, kept: str) -> None:
    campaign = load_campaign(MINIMAL + f"schedule: {{quiet_hours: '{window}'}}\n")
    assert campaign.schedule.quiet_hours == kept


@pytest.mark.parametrize("window", ["21-8", "21:00-21:00", "24:00-08:00", "21:00", "21:00-8", "1"])
def test_bad_quiet_hours(window: str) -> None:
    with pytest.raises(CampaignFileError, match=r"<campaign>:8:25: schedule.quiet_hours: .*HH:MM-HH:MM"):
        load_campaign(MINIMAL + f"schedule: {{quiet_hours: {window}}}\n")


def test_reminders_must_grow() -> None:
    with pytest.raises(CampaignFileError) as caught:
        load_campaign(MINIMAL + "schedule:\n  reminders: [2d, 24h, 24h]\n")
    assert [(e.line, e.column) for e in caught.value.errors] == [(9, 19), (9, 24)]
    assert "1d is not later than the reminder before it" in caught.value.errors[0].message


def test_times_built_in_python_are_accepted() -> None:
    # Not only text: a campaign built in code (or by another YAML reader) passes datetimes and timedeltas.
    data = {
        "name": "x",
        "languages": ["en"],
        "channels": ["sms"],
        "schedule": {"start": datetime(2027, 3, 2, 9, tzinfo=UTC), "reminders": [timedelta(hours=6)]},
        "answer_within": timedelta(days=1),
        "questions": [{"id": "a", "type": "yesno", "text": {"en": "?"}}],
    }
    campaign = Campaign.model_validate(data)
    assert campaign.model_dump(mode="json", exclude_unset=True)["schedule"] == {
        "start": "2027-03-02T09:00:00Z",
        "reminders": ["6h"],
    }
    with pytest.raises(ValidationError, match="has no time zone"):
        Campaign.model_validate({**data, "schedule": {"start": datetime(2027, 3, 2, 9)}})


def test_scale_branches_are_written_as_numbers_and_kept_as_text() -> None:
    campaign = load_campaign(
        MINIMAL
        + """\
  - id: rating
    type: scale
    min: 0
    max: 10
    text: {pl: "Ocena?", en: "Rating?"}
    next: {0: end, 10: end, other: last}
  - id: last
    type: text
    text: {pl: "Dlaczego?", en: "Why?"}
"""
    )
    rating = campaign.question("rating")
    assert rating.next == {"0": "end", "10": "end", "other": "last"}
    assert [campaign.next_id(rating, v) for v in (0, 5, 10)] == ["end", "last", "end"]
    assert campaign.next_id(rating, None) == "last"  # no answer takes `other` too


def test_an_option_keyed_other_is_an_option_not_the_default() -> None:
    campaign = load_campaign_file(Path(__file__).parent / "campaigns" / "all_types.yaml")
    rating, why_not = campaign.question("rating"), campaign.question("why_not")
    assert campaign.default_next(rating) == "priorities"
    assert campaign.default_next(why_not) == "end"  # `other` is one of why_not's options


@pytest.mark.parametrize(
    ("question", "fragment"),
    [
        ("type: scale\n    min: 1", "questions[1]: missing required key 'max'; a scale question needs min"),
        ("type: scale", "missing required keys 'min' and 'max'"),
        ("type: scale\n    min: 1.5\n    max: 5", "questions[1].min: a scale's min must be a whole number"),
        ("type: number\n    min: lots", "questions[1].min: 'lots' is not a number"),
        (
            "type: text\n    max_length: 0",
            "questions[1].max_length: Input should be greater than or equal to 1",
        ),
        ("type: multi\n    max_choices: 0\n    options: [{key: a, text: {pl: a, en: a}}]", "greater than or"),
        (
            "type: text\n    integer: true",
            "'integer' is for number questions; remove it from this text question",
        ),
        ("type: yesno\n    options: [{key: a, text: {pl: a, en: a}}]", "'options' is for choice and multi"),
        ("type: yesno\n    next: [a, b]", "next is a question id, end, or a mapping from answers"),
        ("type: yesno\n    next: {yes: 3}", "questions[1].next.yes: a branch leads to a question id or end"),
        ("type: slider", "Input should be 'yesno', 'choice', 'multi', 'scale', 'number' or 'text'"),
    ],
)
def test_question_type_rules(question: str, fragment: str) -> None:
    text = MINIMAL + f'  - id: second\n    text: {{pl: "Drugie?", en: "Second?"}}\n    {question}\n'
    with pytest.raises(CampaignFileError) as caught:
        load_campaign(text)
    assert any(fragment in e.message for e in caught.value.errors), caught.value.errors
    assert all(e.line >= 8 for e in caught.value.errors), caught.value.errors


def test_sms_and_whatsapp_options_load_and_round_trip() -> None:
    from flows.campaign import Campaign

    text = """
name: Opcje
languages: [pl, uk]
channels: [whatsapp, sms]
sms: {fold_diacritics: true}
whatsapp:
  content_sid: HX0123456789abcdef0123456789abcdef
  variables: {"1": {pl: "Park Oruński", uk: "Оруньський парк"}}
questions:
  - {id: q, type: yesno, text: {pl: "Czy?", uk: "Чи?"}}
"""
    campaign = load_campaign(text)
    assert campaign.sms.fold_diacritics is True
    assert campaign.whatsapp is not None and campaign.whatsapp.variables["1"]["uk"] == "Оруньський парк"
    assert Campaign.model_validate(campaign.model_dump(mode="json", exclude_unset=True)) == campaign
    missing = text.replace(', uk: "Оруньський парк"', "")
    with pytest.raises(CampaignFileError, match=r"whatsapp\.variables\.1: missing translation for uk"):
        load_campaign(missing)


def test_a_utf16_pair_written_as_two_escapes_is_its_character_and_a_lone_half_is_located() -> None:
    """JSON writes an emoji as two \\u escapes, which YAML reads as two halves of a pair: joined, they
    are the emoji; a half alone is refused at its place (before, the reader crashed rendering it)."""
    question = {"id": "q", "type": "yesno", "text": {"pl": "Lubisz park? 😀"}}
    body = {"name": "Park 🌳", "languages": ["pl"], "channels": ["sms"], "questions": [question]}
    assert load_campaign(json.dumps(body)).name == "Park 🌳"  # json.dumps escapes both as pairs

    lone = "name: Park\nlanguages: [pl]\nchannels: [sms]\nquestions:\n"
    lone += '  - {id: q, type: yesno, text: {pl: "a\\ud800"}}\n'
    with pytest.raises(CampaignFileError) as raised:
        load_campaign(lone)
    [error] = raised.value.errors
    assert (error.line, error.column, error.path) == (5, 37, "questions[0].text.pl")  # the opening quote
    assert "half a UTF-16 pair" in error.message
