"""A YAML syntax error as an Explanation, so the officials' pages can say it in Polish: ruamel.yaml
reports a `problem` and, often, the `context` it was reading (a small fixed set of English phrases,
some with a character or token in them). Each known phrase is a template here; a phrase that is not
(a rarer one, or a reworded one after an upgrade) gives no explanation and stays English."""

from __future__ import annotations

import re
from collections.abc import Mapping

from flows.explanation import Explanation

SYNTAX = "YAML syntax error: %(problem)s"
SYNTAX_WITHIN = "YAML syntax error: %(problem)s (%(context)s that starts at line %(line)s, column %(column)s)"
# The problems an official's typing meets, by code (ruamel.yaml's scanner, parser and constructor).
PROBLEMS: Mapping[str, str] = {
    "yaml_mapping_values": "mapping values are not allowed here",
    "yaml_no_colon": "could not find expected ':'",
    "yaml_bad_character": "found character %(character)s that cannot start any token",
    "yaml_block_end": "expected <block end>, but found %(token)s",
    "yaml_flow_sequence_end": "expected ',' or ']', but got %(token)s",
    "yaml_flow_mapping_end": "expected ',' or '}', but got %(token)s",
    "yaml_node_content": "expected the node content, but found %(token)s",
    "yaml_end_of_stream": "found unexpected end of stream",
    "yaml_document_separator": "found unexpected document separator",
    "yaml_unexpected_colon": "found unexpected ':'",
    "yaml_sequence_entries": "sequence entries are not allowed here",
    "yaml_unknown_escape": "found unknown escape character %(character)s",
    "yaml_line_break": "expected a comment or a line break, but found %(character)s",
    "yaml_duplicate_key": 'found duplicate key "%(key)s" with value "%(value)s" (original value: "%(original)s")',
}
# What the parser was reading when it met the problem (said before "that starts at line …").
CONTEXTS: Mapping[str, str] = {
    "yaml_in_simple_key": "while scanning a simple key",
    "yaml_in_block_mapping": "while parsing a block mapping",
    "yaml_in_block_collection": "while parsing a block collection",
    "yaml_in_flow_sequence": "while parsing a flow sequence",
    "yaml_in_flow_mapping": "while parsing a flow mapping",
    "yaml_in_quoted_scalar": "while scanning a quoted scalar",
    "yaml_in_double_quoted_scalar": "while scanning a double-quoted scalar",
    "yaml_in_plain_scalar": "while scanning a plain scalar",
    "yaml_in_block_scalar": "while scanning a block scalar",
    "yaml_in_mapping": "while constructing a mapping",
    "yaml_in_next_token": "while scanning for the next token",
    "yaml_in_block_node": "while parsing a block node",
    "yaml_in_flow_node": "while parsing a flow node",
}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _pattern(template: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(template)  # text, name, text, name, …, text
    return re.compile(
        "".join(re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)" for index, part in enumerate(parts)),
        re.DOTALL,
    )


_PATTERNS = {code: _pattern(template) for code, template in PROBLEMS.items()}


def problem_explanation(problem: str) -> Explanation | None:
    """A problem ruamel.yaml reported, with its character or token; None for one not in PROBLEMS."""
    for code, pattern in _PATTERNS.items():
        match = pattern.fullmatch(problem)
        if match is not None:
            return Explanation(code, PROBLEMS[code], match.groupdict())
    return None


def syntax_explanation(problem: str, within: tuple[str, int, int] | None = None) -> Explanation | None:
    """ "YAML syntax error: <problem>", and what was being read (the context, its 1-based line and column)
    when there is one; None when the problem or the context is not a known phrase."""
    explained = problem_explanation(problem)
    if explained is None:
        return None
    if within is None:
        return Explanation("yaml_syntax", SYNTAX, {"problem": explained})
    context, line, column = within
    code = next((code for code, phrase in CONTEXTS.items() if phrase == context), None)
    if code is None:
        return None
    params = {"problem": explained, "context": Explanation(code, CONTEXTS[code]), "line": line, "column": column}
    return Explanation("yaml_syntax_within", SYNTAX_WITHIN, params)
