"""`campaign preview` on Telegram: buttons shown as [label], a multi question's toggles and "done"."""

from __future__ import annotations

from flows.loader import load_campaign
from outreach.campaigns.preview import channel_texts

CAMPAIGN = """
name: Park
languages: [pl, en]
channels: [telegram]
questions:
  - id: needs
    type: multi
    text: {pl: "Czego brakuje?", en: "What is missing?"}
    options:
      - {key: benches, text: {pl: ławek, en: benches}}
      - {key: lights, text: {pl: światła, en: lights}}
  - {id: again, type: yesno, text: {pl: "Przyjdziesz?", en: "Will you come?"}}
"""


def test_telegram_preview_shows_the_buttons_residents_will_tap() -> None:
    flow = load_campaign(CAMPAIGN, "park.yaml")
    texts = {text.label: text.text for text in channel_texts(flow, "telegram", "en")}
    first = next(text for label, text in texts.items() if "needs" in label)
    assert first.endswith("\n[☐ 1) benches] [☐ 2) lights] [✓ Done]")
    assert any(text.endswith("Will you come?\n[yes] [no]") for text in texts.values())
    polish = channel_texts(flow, "telegram", "pl")
    assert any(text.text.endswith("[☐ 1) ławek] [☐ 2) światła] [✓ Gotowe]") for text in polish)
