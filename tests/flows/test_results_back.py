"""Results back (pure): a campaign's results_back loads, its placeholders are filled in the resident's
language, the district's sentence is added only when asked, the unweighted note where the shares are;
the preview shows the message at its longest."""

from __future__ import annotations

from flows.loader import load_campaign
from flows.preview import RESULTS_BACK_LABEL, every_message
from flows.results_back import compose, percent, question_ids

CAMPAIGN = """
name: Park
languages: [pl, en]
channels: [sms]
questions:
  - {id: visits, type: yesno, text: {pl: "Bywasz w parku?", en: "Do you visit the park?"}}
  - id: priority
    type: choice
    text: {pl: "Co poprawić?", en: "What first?"}
    options:
      - {key: lighting, text: {pl: oświetlenie, en: lighting}}
      - {key: playground, text: {pl: plac zabaw, en: playground}}
results_back:
  after: close
  text:
    pl: "Najwięcej: {answer:priority} ({share:priority}); bywa w parku {share: visits}."
    en: "Most chose {answer:priority} ({share:priority}); {share:visits} visit the park."
  district:
    pl: "W dzielnicy {district}: {district_share:priority}."
    en: "In {district}: {district_share:priority}."
"""

VALUES = {
    "answer:priority": "plac zabaw",
    "share:priority": "48%",
    "share:visits": "71%",
    "district": "Oliwa",
    "district_share:priority": "52%",
}


def test_results_back_loads_and_names_its_questions() -> None:
    flow = load_campaign(CAMPAIGN)
    assert flow.results_back is not None and flow.results_back.after == "close"
    assert question_ids(flow.results_back) == ["priority", "visits"]


def test_the_message_is_filled_with_the_figures_and_the_district_only_where_it_may_be_shown() -> None:
    results_back = load_campaign(CAMPAIGN).results_back
    assert results_back is not None
    assert (
        compose(results_back, "pl", VALUES, district=True, weighted=True)
        == "Najwięcej: plac zabaw (48%); bywa w parku 71%. W dzielnicy Oliwa: 52%."
    )
    assert compose(results_back, "en", VALUES, district=False, weighted=False) == (
        "Most chose plac zabaw (48%); 71% visit the park. (Shares among those who answered, unweighted.)"
    )


def test_shares_round_half_up() -> None:
    assert [percent(share) for share in (0.625, 0.0049, 1.0, 2 / 3)] == ["63%", "0%", "100%", "67%"]


def test_the_preview_shows_the_message_at_its_longest() -> None:
    messages = every_message(load_campaign(CAMPAIGN), "pl")
    last = messages[-1]
    assert last.label == RESULTS_BACK_LABEL
    assert last.message.text == (
        "Najwięcej: oświetlenie (100%); bywa w parku 100%. W dzielnicy Orunia-Św. Wojciech-Lipce: 100%."
        " (Odsetki wśród osób, które odpowiedziały, bez ważenia.)"
    )
