"""Routing an inbound message before anything is written (outreach.inbound.routes): the outcome a route
knows is the one the pipeline writes with the event; the rest are decided while writing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from channels.base import Inbound
from flows.engine import FlowState
from outreach.campaigns.parsed_flows import CampaignDefinitions
from outreach.inbound.keywords import Keyword, KeywordMatch
from outreach.inbound.routes import Outcome, Route, Way, route_of

NOW = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)


def message(text: str, *, channel: str = "sms", command: str | None = None) -> Inbound:
    return Inbound(channel, "P1", "+48600100200", text, NOW, command=command)


@pytest.mark.parametrize(
    ("route", "known"),
    [
        (Route(Way.STRANGER), Outcome.UNKNOWN_SENDER),
        (Route(Way.OPTED_OUT), Outcome.OPTED_OUT),
        (Route(Way.ANSWER, step=Outcome.STALE_TAP), Outcome.STALE_TAP),
        (Route(Way.ANSWER, step=FlowState(question_id="q", language="pl")), Outcome.PICKED),
        # Written after: what a keyword, an enrolment or a reply after the end does depends on rows.
        (Route(Way.KEYWORD, KeywordMatch(Keyword.STOP, None)), None),
        (Route(Way.ENROLMENT, enrolling="language"), None),
        (Route(Way.JOINING), None),
        (Route(Way.ANSWER), None),
    ],
)
def test_a_route_knows_only_the_outcomes_nothing_written_can_change(route: Route, known: Outcome | None) -> None:
    assert route.known_outcome() is known


def test_a_stranger_is_routed_without_a_read_and_only_telegrams_start_joins() -> None:
    definitions = CampaignDefinitions()
    assert route_of(message("tak"), None, definitions, NOW).way is Way.STRANGER
    assert route_of(message("/start", command="start"), None, definitions, NOW).way is Way.STRANGER
    joining = message("/start", channel="telegram", command="start")
    assert route_of(joining, None, definitions, NOW).way is Way.JOINING
