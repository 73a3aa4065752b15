"""Residents' pseudonyms, made alone or a batch at once."""

from __future__ import annotations

from storage.pseudonyms import new_pseudonym, new_pseudonyms


def test_pseudonyms_made_together_are_each_as_one_made_alone() -> None:
    pseudonyms = new_pseudonyms(1000)
    assert len(set(pseudonyms)) == 1000
    assert all(len(p) == len(new_pseudonym()) and p[0] == "r" and int(p[1:], 16) >= 0 for p in pseudonyms)
    assert new_pseudonyms(0) == []
