"""Golden conversations: tests/flows/golden/*.yaml hold a campaign, replies and the expected effects.

Each expected step lists effects as plain dicts; only the keys a golden names are compared, so a
golden can pin the text where it matters and stay short elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from flows.campaign import Campaign
from flows.engine import Ask, Complete, Effect, FlowState, Record, Say, Step, remind, resume, start, submit, toggle
from flows.loader import load_campaign, load_campaign_file

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.yaml"))
NOW = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)


def _campaign(spec: Any, source: str) -> Campaign:
    if isinstance(spec, str):
        return load_campaign_file(ROOT / spec)
    # An inline campaign goes through the real loader, like a file would.
    out = StringIO()
    YAML(typ="rt").dump(spec, out)
    return load_campaign(out.getvalue(), source)


def _as_dict(effect: Effect) -> dict[str, Any]:
    match effect:
        case Ask():
            return {
                "ask": effect.question_id,
                "attempt": effect.attempt,
                "type": effect.question_type,
                "text": effect.text,
                "choices": {c.key: c.label for c in effect.choices},
            }
        case Record():
            return {"record": effect.question_id, "value": effect.value, "raw": effect.raw}
        case Say():
            return {"say": effect.key, "text": effect.text}
        case Complete():
            return {"complete": True}


def _project(step: Step, expected: list[dict[str, Any]]) -> list[dict[str, Any]]:
    actual = [_as_dict(e) for e in step.effects]
    if len(actual) != len(expected):
        return actual
    return [
        {k: a.get(k, "<absent>") for k in e} if next(iter(e)) in a else a for a, e in zip(actual, expected, strict=True)
    ]


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden(path: Path) -> None:
    golden = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    flow = _campaign(golden["campaign"], str(path))
    steps = [start(flow, str(golden["language"]), NOW)]
    for reply in golden["replies"]:
        # The caller stores state as JSON between replies; the engine must not depend on anything else.
        state = FlowState.model_validate_json(steps[-1].state.model_dump_json())
        steps.append(resume(flow, state, str(reply), NOW))

    expected = [[dict(e) for e in step] for step in golden["expected"]]
    assert len(steps) == len(expected), "one expected step for start plus one per reply"
    for number, (step, want) in enumerate(zip(steps, expected, strict=True)):
        assert _project(step, want) == want, f"step {number}"
    if "final_state" in golden:
        assert steps[-1].state == FlowState.model_validate(dict(golden["final_state"]))


def test_goldens_cover_the_required_cases() -> None:
    assert {p.stem for p in GOLDEN} >= {
        "straight_path",
        "branch_next_dict",
        "branch_to_end",
        "reask_then_match",
        "reask_exhausted",
        "done_ignores_replies",
        "multi",
        "scale_branching",
        "number",
        "text",
        "all_types",
    }


def test_done_state_is_returned_unchanged() -> None:
    flow = load_campaign_file(ROOT / "examples/park_orunski.yaml")
    done = FlowState(question_id=None, language="pl", done=True)
    assert resume(flow, done, "tak", NOW) == Step(done, ())


ALL_TYPES = ROOT / "tests/flows/campaigns/all_types.yaml"


def test_a_reminder_repeats_the_current_question_and_leaves_the_state_alone() -> None:
    flow = load_campaign_file(ALL_TYPES)
    state = FlowState(question_id="priorities", language="en", reasks=1)
    ask = remind(flow, state, 2)
    assert ask is not None
    assert (ask.question_id, ask.attempt, ask.reminder, ask.question_type) == ("priorities", 1, 2, "multi")
    assert ask.text == ("A reminder of our question:\nWhat to improve? (up to 2)\nYou can choose up to 2, e.g. 1,3.")
    assert [c.key for c in ask.choices] == ["lighting", "benches", "playground", "cleanliness"]
    assert remind(flow, FlowState(question_id=None, language="en", done=True), 1) is None


def test_asks_and_reasks_are_not_reminders() -> None:
    flow = load_campaign_file(ALL_TYPES)
    first = start(flow, "uk", NOW)
    again = resume(flow, first.state, "???", NOW)
    assert [e.reminder for e in (*first.effects, *again.effects) if isinstance(e, Ask)] == [0, 0]


@pytest.mark.parametrize("language", ["pl", "en", "uk"])
def test_every_question_type_is_worded_in_every_language(language: str) -> None:
    # Each question of the all-types campaign, asked, re-asked and reminded, in each language.
    flow = load_campaign_file(ALL_TYPES)
    for question in flow.questions:
        state = FlowState(question_id=question.id, language=language)
        step = resume(flow, state, "", NOW)
        [reask] = step.effects
        assert isinstance(reask, Ask) and reask.attempt == 1
        assert reask.text.endswith(question.text[language]) or question.type == "multi"
        assert remind(flow, state, 1) is not None


# -- a multi question answered by taps: picks kept in the state, recorded on "done" ---------------

PRIORITIES = FlowState(question_id="priorities", language="en")  # all_types: 4 options, up to 2


def _picks(flow: Campaign, numbers: list[int]) -> FlowState:
    state = PRIORITIES
    for number in numbers:
        toggled = toggle(flow, state, number)
        assert toggled is not None
        # The caller stores the state as JSON between taps.
        state = FlowState.model_validate_json(toggled.state.model_dump_json())
    return state


@pytest.mark.parametrize(
    ("label", "taps", "selected"),
    [
        ("one pick", [3], ("playground",)),
        ("kept in the options' order", [3, 1], ("lighting", "playground")),
        ("a second tap unpicks", [3, 1, 3], ("lighting",)),
        ("a pick over max_choices is refused", [1, 2, 4], ("lighting", "benches")),
        ("unpicking makes room again", [1, 2, 1, 4], ("benches", "cleanliness")),
    ],
)
def test_toggles_pick_and_unpick(label: str, taps: list[int], selected: tuple[str, ...]) -> None:
    flow = load_campaign_file(ALL_TYPES)
    assert _picks(flow, taps).selected == selected, label


def test_a_refused_pick_says_so_and_changes_nothing() -> None:
    flow = load_campaign_file(ALL_TYPES)
    full = _picks(flow, [1, 2])
    refused = toggle(flow, full, 4)
    assert refused is not None and refused.refused and not refused.picked
    assert refused.state == full and refused.option.label == "cleanliness"


@pytest.mark.parametrize(
    ("label", "state", "number"),
    [
        ("no such option", PRIORITIES, 5),
        ("option zero", PRIORITIES, 0),
        ("not a multi question", FlowState(question_id="rating", language="en"), 1),
        ("the conversation is over", FlowState(question_id=None, language="en", done=True), 1),
    ],
)
def test_a_toggle_that_fits_nothing(label: str, state: FlowState, number: int) -> None:
    assert toggle(load_campaign_file(ALL_TYPES), state, number) is None, label


def test_done_records_the_picks_like_a_typed_reply_and_clears_them() -> None:
    flow = load_campaign_file(ALL_TYPES)
    state = _picks(flow, [3, 1])
    step = submit(flow, state, NOW)
    assert step is not None
    typed = resume(flow, PRIORITIES, "1,3", NOW)
    assert step == typed
    record = step.effects[0]
    assert isinstance(record, Record) and record.value == ["lighting", "playground"] and record.raw == "1,3"
    assert step.state.selected == () and step.state.question_id != "priorities"


def test_done_with_nothing_picked_is_no_answer() -> None:
    flow = load_campaign_file(ALL_TYPES)
    assert submit(flow, PRIORITIES, NOW) is None
    assert submit(flow, _picks(flow, [2, 2]), NOW) is None


def test_a_multi_question_carries_its_done_label_in_each_language() -> None:
    flow = load_campaign_file(ALL_TYPES)
    labels = {}
    for language in ("pl", "en", "uk"):
        [ask] = resume(flow, FlowState(question_id="priorities", language=language), "", NOW).effects
        assert isinstance(ask, Ask)
        labels[language] = ask.submit_label
    assert labels == {"pl": "Gotowe", "en": "Done", "uk": "Готово"}
    [other] = resume(flow, FlowState(question_id="rating", language="en"), "", NOW).effects
    assert isinstance(other, Ask) and other.submit_label is None


def test_a_multi_question_asked_again_shows_the_picks_so_far() -> None:
    flow = load_campaign_file(ALL_TYPES)
    picked = _picks(flow, [2])
    reminder = remind(flow, picked, 1)
    assert reminder is not None and reminder.selected == ("benches",)
    [reask] = resume(flow, picked, "???", NOW).effects
    assert isinstance(reask, Ask) and reask.selected == ("benches",)
    assert resume(flow, picked, "???", NOW).state.selected == ("benches",)  # a re-ask keeps the picks
    first = remind(flow, PRIORITIES, 1)
    assert first is not None and first.selected == ()
