"""Every message a campaign can send, as officials preview it."""

from __future__ import annotations

from pathlib import Path

from flows.engine import Ask, Say
from flows.loader import load_campaign_file
from flows.preview import every_message

CAMPAIGNS = Path(__file__).parent / "campaigns"


def test_every_message_lists_the_opening_each_question_reasks_reminder_and_outro() -> None:
    flow = load_campaign_file(CAMPAIGNS / "all_types.yaml")
    previews = every_message(flow, "pl")
    labels = [preview.label for preview in previews]
    first, *others = (question.id for question in flow.questions)
    assert labels[0] == f"{first} (first message, with the intro)"
    assert labels[1 : len(others) + 1] == others
    assert labels.count(f"{first} (re-ask)") == (1 if flow.reask_unclear else 0)
    opening = previews[0].message
    assert isinstance(opening, Ask) and flow.intro is not None and opening.text.startswith(flow.intro["pl"])
    if flow.outro is not None:
        assert previews[-1].message == Say("outro", flow.outro["pl"])
    assert all(isinstance(preview.message, Ask | Say) for preview in previews)
