"""YAML syntax errors as Explanations (flows.yaml_syntax), read through the loader: each common
mistake gets its code and gives back exactly the English the CLI prints; a problem or context that is
not a known phrase gets none."""

from __future__ import annotations

import pytest

from flows.loader import CampaignFileError, load_campaign
from flows.yaml_syntax import problem_explanation, syntax_explanation

MISTAKES = {
    "name: a: b\n": ("yaml_syntax", "yaml_mapping_values", (1, 8)),
    "name: x\nlanguages [pl]\nchannels: [sms]\n": ("yaml_syntax_within", "yaml_no_colon", (3, 1)),
    "name: x\n\tlanguages: [pl]\n": ("yaml_syntax", "yaml_bad_character", (2, 1)),
    "questions:\n  - id: a\n  x: 1\n": ("yaml_syntax_within", "yaml_block_end", (3, 3)),
    "languages: [pl, en\nchannels: [sms]\n": ("yaml_syntax_within", "yaml_flow_sequence_end", (2, 9)),
    "text: {pl: a, en: b\nx: 1\n": ("yaml_syntax_within", "yaml_flow_mapping_end", (2, 2)),
    'name: "abc\n': ("yaml_syntax_within", "yaml_end_of_stream", (2, 1)),
    'name: "a\\qb"\n': ("yaml_syntax_within", "yaml_unknown_escape", (1, 10)),
    "name: x\nname: y\n": ("yaml_syntax_within", "yaml_duplicate_key", (2, 1)),
    "name: &a x\n": ("yaml_aliases", None, (1, 7)),
    "a: " + "[" * 40 + "]" * 40 + "\n": ("too_deep", None, (1, 35)),
    "": ("empty_file", None, (1, 1)),
    "- a\n": ("not_a_mapping", None, (1, 1)),
}


@pytest.mark.parametrize("text", sorted(MISTAKES))
def test_each_mistake_is_explained_as_the_cli_says_it(text: str) -> None:
    code, problem, where = MISTAKES[text]
    with pytest.raises(CampaignFileError) as refused:
        load_campaign(text)
    (error,) = refused.value.errors
    assert error.explanation is not None
    assert (error.explanation.code, error.explanation.text, (error.line, error.column)) == (code, error.message, where)
    if problem is not None:
        assert error.explanation.params["problem"].code == problem  # type: ignore[attr-defined]


def test_a_problem_or_context_not_in_the_tables_is_not_explained() -> None:
    assert problem_explanation("expected a digit or '.', but found 'x'") is None
    assert syntax_explanation("mapping values are not allowed here", ("while scanning a directive", 1, 1)) is None
    with pytest.raises(CampaignFileError) as refused:
        load_campaign("%YAML 1.2 x\n---\nname: Park\n")
    assert refused.value.errors[0].explanation is None


def test_a_character_or_token_is_kept_as_written() -> None:
    explanation = problem_explanation("found character '\\t' that cannot start any token")
    assert explanation is not None and explanation.params == {"character": "'\\t'"}
