"""The small campaign the outage and crash rounds run: two yes/no questions by SMS, no quiet hours (the
rounds run on the wall clock, at any hour)."""

from __future__ import annotations

QUESTIONS = {"uses_tram": "Czy jeździsz tramwajem?", "often": "Codziennie?"}  # id -> text
TRAM_CAMPAIGN = """
name: Tramwaj
languages: [pl]
channels: [sms]
schedule: {quiet_hours: null}
questions:
  - {id: uses_tram, type: yesno, text: {pl: "Czy jeździsz tramwajem?"}}
  - {id: often, type: yesno, text: {pl: "Codziennie?"}}
"""
