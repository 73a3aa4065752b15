"""on_unknown in a campaign file: the defaults, a written policy, and located errors for a bad one."""

from __future__ import annotations

from flows.loader import load_campaign
from flows.unknown_outcomes import OnUnknown

CAMPAIGN = """\
name: Park
languages: [pl]
channels: [sms]
{policy}questions:
  - id: visits
    type: yesno
    text: {{pl: "Czy?"}}
"""


def test_by_default_questions_and_reminders_are_resent_and_the_rest_given_up() -> None:
    policy = load_campaign(CAMPAIGN.format(policy="")).on_unknown
    assert [policy.action(kind) for kind in ("question", "reminder", "closing", "results_back", "system")] == [
        "resend",
        "resend",
        "give_up",
        "give_up",
        "give_up",
    ]


def test_a_campaign_chooses_per_kind() -> None:
    written = "on_unknown: {question: give_up, closing: resend}\n"
    policy = load_campaign(CAMPAIGN.format(policy=written)).on_unknown
    assert policy == OnUnknown(question="give_up", reminder="resend", closing="resend")


# A bad policy is refused at its line: tests/flows/broken/on_unknown_*.yaml, in test_loader's BROKEN_FILES.
