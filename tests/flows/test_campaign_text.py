"""A campaign document written onto the YAML it was edited from (issue 21): what the document leaves as
it was keeps its lines and comments byte for byte, a change changes one line, a removed question or
option takes its own comments and no others, and the text always says the document."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from flows.campaign_text import campaign_yaml, edited_yaml, with_key
from flows.loader import load_campaign

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))

COMMENTED = """\
# Ławki na Oruni: comments at every level.
name: Ławki na Oruni  # the name officials see
languages: [pl, en]
channels: [sms, email]
answer_within: 48h  # then the conversation ends
questions:
  # Whether they come at all.
  - id: visits
    type: yesno
    text:
      pl: "Czy bywasz w parku?"  # as the council wrote it
      en: Do you visit the park?  # a translation
    next: {no: why, other: benches}
  # Where the benches go.
  - id: benches
    type: choice
    text: {pl: Gdzie ławki?, en: Where should benches go?}
    options:
      # The pond is the favourite.
      - key: pond
        text: {pl: przy stawie, en: by the pond}  # by the water
        synonyms: [staw, pond]
      # The gate is the other.
      - key: gate
        text: {pl: przy bramie, en: by the gate}
    next: end

  # Why not: free text.
  - id: why
    type: text
    text: {pl: Dlaczego nie?, en: Why not?}
# The end.
"""
RENAMED = '      pl: "Czy bywasz w parku?"  # as the council wrote it'


def document(text: str) -> dict[str, Any]:
    return load_campaign(text).model_dump(mode="json", exclude_unset=True)


def comments(text: str) -> list[str]:
    return [line[line.index("#") :] for line in text.splitlines() if "#" in line]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_an_example_written_onto_itself_is_the_same_text(example: Path) -> None:
    text = example.read_text(encoding="utf-8")
    assert edited_yaml(text, document(text)) == text


def test_an_unchanged_campaign_keeps_every_comment_byte_for_byte() -> None:
    assert edited_yaml(COMMENTED, document(COMMENTED)) == COMMENTED


def test_a_changed_text_changes_its_line_and_keeps_every_comment() -> None:
    changed = document(COMMENTED)
    changed["questions"][0]["text"]["pl"] = "Czy bywasz w Parku Oruńskim?"
    written = edited_yaml(COMMENTED, changed)
    differ = [(was, now) for was, now in zip(COMMENTED.splitlines(), written.splitlines(), strict=True) if was != now]
    assert differ == [(RENAMED, '      pl: "Czy bywasz w Parku Oruńskim?" # as the council wrote it')]
    assert document(written) == changed


def test_a_removed_question_takes_its_own_comments_only() -> None:
    changed = document(COMMENTED)
    del changed["questions"][1]
    changed["questions"][0]["next"] = {"no": "why"}
    written = edited_yaml(COMMENTED, changed)
    gone = ["# Where the benches go.", "# The pond is the favourite.", "# by the water", "# The gate is the other."]
    assert comments(written) == [comment for comment in comments(COMMENTED) if comment not in gone]
    assert document(written) == changed
    assert "  # Why not: free text.\n  - id: why\n" in written


def test_a_removed_option_takes_its_own_comments_only() -> None:
    changed = document(COMMENTED)
    del changed["questions"][1]["options"][0]
    written = edited_yaml(COMMENTED, changed)
    gone = ["# The pond is the favourite.", "# by the water"]
    assert comments(written) == [comment for comment in comments(COMMENTED) if comment not in gone]
    assert document(written) == changed


def test_a_key_added_after_the_last_one_goes_above_the_comments_of_what_follows() -> None:
    changed = document(COMMENTED)
    changed["questions"][2]["max_length"] = 300
    changed["questions"][1]["options"].append({"key": "path", "text": {"pl": "przy alejce", "en": "by the path"}})
    written = edited_yaml(COMMENTED, changed)
    assert "    next: end\n\n  # Why not: free text.\n" in written
    assert "        text: {pl: przy alejce, en: by the path}\n" in written
    assert written.endswith("    max_length: 300\n# The end.\n")
    assert comments(written) == comments(COMMENTED)
    assert document(written) == changed


def test_a_renamed_question_keeps_its_comments() -> None:
    changed = copy.deepcopy(document(COMMENTED))
    changed["questions"][2]["id"] = "why_not"
    changed["questions"][0]["next"] = {"no": "why_not", "other": "benches"}
    written = edited_yaml(COMMENTED, changed)
    assert "  # Why not: free text.\n  - id: why_not\n" in written
    assert comments(written) == comments(COMMENTED)


def test_a_text_that_is_no_campaign_mapping_is_written_anew() -> None:
    changed = document(COMMENTED)
    assert edited_yaml("- a list\n", changed) == campaign_yaml(changed)
    assert edited_yaml("name: [unclosed\n", changed) == campaign_yaml(changed)


def test_a_key_set_on_the_text_keeps_the_rest_as_it_was() -> None:
    written = with_key(COMMENTED, "privacy_notice", {"pl": "Dane: gdansk.pl", "en": "Data: gdansk.pl"})
    assert written == COMMENTED.replace(
        "# The end.\n", "privacy_notice: {pl: 'Dane: gdansk.pl', en: 'Data: gdansk.pl'}\n# The end.\n"
    )
