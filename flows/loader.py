"""Load a campaign file and report every problem at the line:column of the node it concerns."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer, ComposerError
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, NodeEvent

from flows.campaign import Campaign
from flows.explanation import Explanation
from flows.model import SKIP_SEMANTIC
from flows.problems import Path as NodePath
from flows.problems import Problem, format_path
from flows.validate import find_problems
from flows.value_errors import QUOTES_HINT, value_error_explanation
from flows.yaml_syntax import syntax_explanation

UNKNOWN_KEY = "%(where)s: unknown key '%(key)s' (allowed: %(allowed)s)"
UNKNOWN_KEY_CLOSE = "%(where)s: unknown key '%(key)s'; did you mean '%(close)s'? (allowed: %(allowed)s)"
MISSING_KEY = "%(where)s: missing required key '%(key)s'"


@dataclass(frozen=True)
class CampaignError:
    source: str
    line: int  # 1-based
    column: int  # 1-based
    message: str
    path: str = ""  # the key it concerns, dotted (questions[0].text); "" for the file as a whole
    # The problem's message as a code, template and parameters, when our own checks wrote it: the
    # message is its text after the path (a Problem's), or its text alone (an unknown or missing key).
    explanation: Explanation | None = None

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}: {self.message}"


class CampaignFileError(Exception):
    def __init__(self, errors: list[CampaignError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def load_campaign_file(path: str | Path) -> Campaign:
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise _file_error(source, f"cannot read the file: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _file_error(source, f"the file is not UTF-8 (byte {exc.start}); save it as UTF-8") from exc
    return load_campaign(text, source)


def load_campaign(text: str, source: str = "<campaign>") -> Campaign:
    """A campaign from YAML, or from JSON (YAML 1.2's flow style), every problem located."""
    root = _parse_yaml(text, source)
    lone = [
        CampaignError(
            source,
            *_position(root, path, part),
            f"{format_path(path)}: {LONE_SURROGATE}",
            format_path(path),
            Explanation("lone_surrogate", LONE_SURROGATE),
        )
        for path, part in _lone_surrogates(root, ())
    ]
    if lone:
        raise CampaignFileError(lone)
    try:
        campaign = Campaign.model_validate(_plain(root), context={SKIP_SEMANTIC: True})
    except ValidationError as exc:
        raise CampaignFileError([_pydantic_error(source, root, e) for e in exc.errors()]) from None
    problems = find_problems(campaign)
    if problems:
        raise CampaignFileError([_problem_error(source, root, p) for p in problems])
    return campaign


def _file_error(source: str, message: str | Explanation) -> CampaignFileError:
    if isinstance(message, Explanation):
        return CampaignFileError([CampaignError(source, 1, 1, message.text, explanation=message)])
    return CampaignFileError([CampaignError(source, 1, 1, message)])


class _TimestampsAsText(RoundTripConstructor):
    """Timestamps stay the text the official wrote, for `flows.timing` to parse.

    ruamel versions differ in how a TimeStamp keeps its offset (on the object or beside it), and a
    subclass changes this for our loader only, not for every ruamel user in the process.
    """


_TimestampsAsText.add_constructor("tag:yaml.org,2002:timestamp", _TimestampsAsText.construct_yaml_str)


_NO_ALIASES = "YAML anchors and aliases (&name, *name) are not allowed in a campaign file; write each value out in full"
# A campaign is at most a handful of levels deep (questions, a question, its texts by language); the
# parser and the tree walks recurse per level, so a few kilobytes of brackets could exhaust the stack.
MAX_NESTING = 32
_TOO_DEEP = "the file nests more than %(limit)s levels deep; a campaign needs only a few"
_EMPTY = "the file is empty; a campaign needs name, languages, channels and questions"
_NOT_A_MAPPING = "a campaign file must be a mapping (name: ..., languages: ..., questions: ...)"


class _NodeRefused(ComposerError):
    def __init__(self, explanation: Explanation, mark: Any) -> None:
        super().__init__(None, None, explanation.text, mark)
        self.explanation = explanation


class _GuardedComposer(Composer):
    """Refuses the first anchor or alias, and nesting deeper than MAX_NESTING, before any node is built.

    A campaign never needs aliases, and nested aliases make a few hundred bytes stand for billions of
    values (an "alias bomb": ten aliases per level, ten times the work per level when the tree is
    walked). Every anchor comes before its aliases, so in practice the error points at the anchor.
    """

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent) or (isinstance(event, NodeEvent) and event.anchor is not None):
            raise _NodeRefused(Explanation("yaml_aliases", _NO_ALIASES), event.start_mark)
        if self._depth >= MAX_NESTING:
            raise _NodeRefused(Explanation("too_deep", _TOO_DEEP, {"limit": MAX_NESTING}), event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def round_trip_reader() -> YAML:
    """The loader's YAML reader: round-trip types (line/column and comments kept), no aliases, no
    deeper than MAX_NESTING, timestamps as text. ruamel reads YAML 1.2 (`no`/`yes`/`on`/`off` stay
    strings) unless a file says otherwise."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _TimestampsAsText
    yaml.Composer = _GuardedComposer
    return yaml


def _parse_yaml(text: str, source: str) -> CommentedMap:
    # Round-trip mode keeps line/column info; YAML 1.2 keeps `no`/`yes`/`on`/`off` as strings.
    yaml = round_trip_reader()
    yaml.version = (1, 2)
    try:
        root = yaml.load(text)
    except _NodeRefused as exc:
        mark, refused = exc.problem_mark, exc.explanation
        error = CampaignError(source, mark.line + 1, mark.column + 1, refused.text, explanation=refused)
        raise CampaignFileError([error]) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        detail = str(exc.problem or exc.context)
        explanation = syntax_explanation(detail) if exc.problem else None
        # The context often names the real culprit (an unclosed bracket a few lines up).
        if exc.context and exc.problem and exc.context_mark is not None:
            at = exc.context_mark
            detail += f" ({exc.context} that starts at line {at.line + 1}, column {at.column + 1})"
            explanation = syntax_explanation(str(exc.problem), (str(exc.context), at.line + 1, at.column + 1))
        message = f"YAML syntax error: {detail}"
        if explanation is not None and explanation.text != message:
            explanation = None  # said otherwise than it is in English: English it stays
        raise CampaignFileError([CampaignError(source, line, column, message, explanation=explanation)]) from None
    except YAMLError as exc:
        raise _file_error(source, f"YAML syntax error: {exc}") from None
    if root is None:
        raise _file_error(source, Explanation("empty_file", _EMPTY))
    if not isinstance(root, CommentedMap):
        raise _file_error(source, Explanation("not_a_mapping", _NOT_A_MAPPING))
    return root


LONE_SURROGATE = "a \\u escape names half a UTF-16 pair (\\ud800-\\udfff) without its other half: no character"
_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: str) -> str:
    """A string as written: the \\u escapes of a UTF-16 pair (which JSON writes for an emoji, and YAML
    reads as two halves) joined into their one character; a lone half is left for the check."""
    if not _SURROGATE.search(value):
        return str(value)
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _lone_surrogates(node: Any, path: NodePath) -> Iterator[tuple[NodePath, Literal["key", "value"]]]:
    """Where a string (or a key) holds half a UTF-16 pair, which no text can store or print."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and _SURROGATE.search(_text(key)):
                yield (*path, key), "key"
            else:
                yield from _lone_surrogates(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _lone_surrogates(value, (*path, index))
    elif isinstance(node, str) and _SURROGATE.search(_text(node)):
        yield path, "value"


def _plain(node: Any) -> Any:
    """ruamel round-trip types -> plain dict/list/str/int/float/bool, as pydantic expects."""
    if isinstance(node, dict):
        return {_plain(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, str):
        return _text(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, dt.date):  # defensive: _TimestampsAsText keeps timestamps as text already
        return node.isoformat()
    return node


# --- locating nodes -------------------------------------------------------------------------------


def _position(root: CommentedMap, path: NodePath, part: str = "value") -> tuple[int, int]:
    """1-based line/column of the node at `path`; the deepest existing ancestor when it is missing."""
    node: Any = root
    line, column = root.lc.line, root.lc.col
    for depth, step in enumerate(path):
        last = depth == len(path) - 1
        if isinstance(node, CommentedMap):
            step = _key_in(node, step)
        if isinstance(node, CommentedMap) and step in node:
            line, column = node.lc.key(step) if last and part == "key" else node.lc.value(step)
            node = node[step]
        elif isinstance(node, CommentedSeq) and isinstance(step, int) and 0 <= step < len(node):
            line, column = node.lc.item(step)
            node = node[step]
        else:
            break
    return line + 1, column + 1


def _key_in(node: CommentedMap, step: str | int) -> Any:
    """The file's own key for `step`: the model keeps scale branches ({1: ...}) as text ("1")."""
    if step in node:
        return step
    return next((key for key in node if isinstance(key, int) and str(key) == step), step)


def _problem_error(source: str, root: CommentedMap, problem: Problem) -> CampaignError:
    line, column = _position(root, problem.path, problem.part)
    return CampaignError(source, line, column, str(problem), format_path(problem.path), problem.explanation)


def _pydantic_error(source: str, root: CommentedMap, error: ErrorDetails) -> CampaignError:
    loc: NodePath = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    kind = error["type"]
    part = "value"
    if "at" in ctx:  # the error concerns a key below its location
        loc = (*loc, ctx["at"])
    if kind == "extra_forbidden":
        part = "key"
    elif kind == "not_supported" and "at" not in ctx:
        part = "key"  # a whole key is refused: point at it, not at its contents
    line, column = _position(root, loc, part)
    described = _describe(loc, error)
    if isinstance(described, Explanation):
        return CampaignError(source, line, column, described.text, format_path(loc), described)
    message, explanation = described
    return CampaignError(source, line, column, message, format_path(loc), explanation)


def _describe(loc: NodePath, error: ErrorDetails) -> Explanation | tuple[str, Explanation | None]:
    """The problem in words: our own for an unknown or missing key (explained, to be translated on the
    officials' pages), pydantic's for the rest, with its explanation after the path when its type is
    known (flows.value_errors; else English only)."""
    kind = error["type"]
    where = format_path(loc)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = ", ".join(_allowed_keys(loc[:-1]))
        where = format_path(loc[:-1]) or "campaign"
        close = difflib.get_close_matches(key, _allowed_keys(loc[:-1]), n=1)
        if close:
            params = {"where": where, "key": key, "close": close[0], "allowed": allowed}
            return Explanation("unknown_key_close", UNKNOWN_KEY_CLOSE, params)
        return Explanation("unknown_key", UNKNOWN_KEY, {"where": where, "key": key, "allowed": allowed})
    if kind == "missing":
        where = format_path(loc[:-1]) or "campaign"
        return Explanation("missing_key", MISSING_KEY, {"where": where, "key": loc[-1]})
    message = error["msg"]
    if kind == "not_supported" and "at" not in (error.get("ctx") or {}):
        return message, None  # it already names the key
    if kind == "string_type":
        message += QUOTES_HINT
    explanation = value_error_explanation(error, message)
    return (f"{where}: {message}" if where else message), explanation


def _allowed_keys(loc: NodePath) -> list[str]:
    """The field names of the model found at `loc` (e.g. questions[1] -> Question's fields)."""
    model: type[BaseModel] | None = Campaign
    for step in loc:
        if model is None:
            return []
        if isinstance(step, int):
            continue
        field = model.model_fields.get(step)
        model = _model_in(field.annotation) if field else None
    if model is None:
        return []
    return [name for name, f in model.model_fields.items() if not f.exclude]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.GenericAlias | types.UnionType) or typing.get_origin(annotation):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None
