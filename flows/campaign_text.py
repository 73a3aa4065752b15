"""A campaign document written as the campaign file the CLI takes: anew (`campaign_yaml`), or onto the
text the campaign was last saved as (`edited_yaml`), so that an official's comments and layout survive
a save through the editor's form (issue 21).

`edited_yaml` applies the document onto the old text's round-trip tree (ruamel.yaml's CommentedMap and
CommentedSeq): a value that changed changes in place, a new key comes in at its place in the
document's order, a removed one goes. Questions and options are matched by their id and key, so
removing the second question does not rewrite the third into it. A block removed from a block
collection goes with its lines: its own comments and those directly above it, never the comments
above the next one (ruamel keeps those on the removed node, so the lines are cut from the text
before the tree is built).
"""

from __future__ import annotations

import difflib
import io
import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.scalarstring import ScalarString
from ruamel.yaml.tokens import CommentToken

from flows.campaign import Campaign
from flows.loader import round_trip_reader
from flows.model import SKIP_SEMANTIC

SHORT = 72  # characters: a list or mapping of plain values up to this long stays on one line
IDENTITIES = ("id", "key")  # what names a question, an option, in a list of them
Lines = list[str]


def campaign_yaml(document: Mapping[str, Any]) -> str:
    """The document as the campaign file the CLI takes, laid out as the examples are: short lists and
    short mappings of plain values on one line (`languages: [pl, en]`, an option's texts)."""
    return _written(_laid_out(document), _writer())


def edited_yaml(previous: str, document: Mapping[str, Any]) -> str:
    """`document` written onto `previous`, the campaign file it was edited from: what is unchanged
    keeps its lines, comments and quoting; a text that is no campaign mapping is written anew."""
    lines = previous.splitlines(keepends=True)
    try:
        root = _read(previous)
        cut = sorted(_removed_blocks(root, document, lines, len(lines)), reverse=True)
        if cut:
            for first, last in cut:  # from the bottom up, so the line numbers above stay true
                del lines[first : last + 1]
            root = _read("".join(lines))
    except (YAMLError, _NotCampaign):
        return campaign_yaml(document)
    _merge_map(root, document, _meant(root))
    return _written(root, _writer(*_indents(lines)))


def with_key(previous: str, key: str, value: Any) -> str:
    """`previous` with `key` set to `value` (a new key goes last), all else as it was."""
    try:
        document = _plain(_read(previous))
    except (YAMLError, _NotCampaign):
        return previous
    return edited_yaml(previous, {**document, key: value})


# --- reading and writing -----------------------------------------------------------------------------


class _NotCampaign(Exception):
    pass


class _Timestamp(str):
    """A timestamp as the file wrote it: text to compare with the form's, written back unquoted."""


class _TimestampsKept(RoundTripConstructor):
    def construct_timestamp(self, node: Any) -> _Timestamp:
        return _Timestamp(self.construct_scalar(node))


_TimestampsKept.add_constructor("tag:yaml.org,2002:timestamp", _TimestampsKept.construct_timestamp)


def _read(text: str) -> CommentedMap:
    yaml = round_trip_reader()
    yaml.Constructor = _TimestampsKept
    yaml.preserve_quotes = True  # "21:00-08:00" stays in its quotes
    root = yaml.load(text)
    if not isinstance(root, CommentedMap):
        raise _NotCampaign
    return root


def _writer(mapping: int = 2, sequence: int = 4, offset: int = 2) -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_unicode = True
    yaml.width = 4096  # a long question stays on its line
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    yaml.representer.add_representer(
        _Timestamp, lambda writer, text: writer.represent_scalar("tag:yaml.org,2002:timestamp", str(text))
    )
    return yaml


def _written(root: Any, yaml: YAML) -> str:
    out = io.StringIO()
    yaml.dump(root, out)
    return out.getvalue()


def _indents(lines: Lines) -> tuple[int, int, int]:
    """The file's own indentation (mapping, sequence, offset of the dash), as ruamel's indent() takes
    it; the examples' (2, 4, 2) where the file does not show it."""
    mapping, sequence, offset = 0, 0, -1
    for above, line in itertools.pairwise(lines):
        text, parent = line.lstrip(" "), above.lstrip(" ")
        if not text.strip() or text.startswith("#") or not parent.rstrip().endswith(":"):
            continue
        step = len(line) - len(text) - (len(above) - len(parent))
        if parent.startswith("- "):
            continue  # a key on a dash's line: its indentation is the dash's offset's and the sequence's
        if text.startswith("- ") and offset < 0:
            offset = step
            sequence = step + 2 + len(text[2:]) - len(text[2:].lstrip(" "))
        elif not text.startswith("-") and not mapping and step > 0:
            mapping = step
    if offset < 0:
        offset, sequence = 2, 4
    return mapping or 2, max(sequence, offset + 2), offset


# --- removing whole blocks by their lines ------------------------------------------------------------


def _removed_blocks(node: Any, new: Any, lines: Lines, next_start: int) -> Iterator[tuple[int, int]]:
    """The (first, last) lines of each block item of `node` that `new` no longer has, found where
    both are collections of one kind; `next_start`: the line where what follows `node` starts."""
    if isinstance(node, CommentedMap) and isinstance(new, Mapping) and not node.fa.flow_style():
        wanted = {str(key) for key in new}
        keys = list(node)
        for index, key in enumerate(keys):
            start, column = node.lc.key(key)
            end = node.lc.key(keys[index + 1])[0] if index + 1 < len(keys) else next_start
            if str(key) not in wanted:
                if not lines[start][:column].strip():  # not the first key on a dash's line
                    yield _block(lines, start, end)
            else:
                yield from _removed_blocks(node[key], _by_name(new, key), lines, end)
    elif isinstance(node, CommentedSeq) and isinstance(new, list) and not node.fa.flow_style():
        starts: list[int | None] = [_dash_line(node, index, lines) for index in range(len(node))]
        for item, paired in _aligned(node, new):
            if item is None:
                continue
            dash, following = starts[item], (starts[item + 1] if item + 1 < len(starts) else next_start)
            if paired is not None:
                within = next_start if following is None else following
                yield from _removed_blocks(node[item], new[paired], lines, within)
            elif dash is not None and following is not None:
                yield _block(lines, dash, following)


def _block(lines: Lines, start: int, end: int) -> tuple[int, int]:
    """Lines start.. up to `end` (where the next item starts), with the comments directly above the
    block and without the blank and comment lines before the next (they are the next one's)."""
    first, last = start, end - 1
    while first > 0 and lines[first - 1].lstrip().startswith("#"):
        first -= 1
    while last > start and (not lines[last].strip() or lines[last].lstrip().startswith("#")):
        last -= 1
    return first, last


def _dash_line(seq: CommentedSeq, index: int, lines: Lines) -> int | None:
    """The line of item `index`'s dash, when the dash begins its line (None: not a block to cut)."""
    line, column = seq.lc.item(index)
    if lines[line][:column].strip() == "-":
        return int(line)
    if line > 0 and lines[line - 1].strip() == "-" and not lines[line][:column].strip():
        return int(line) - 1
    return None


# --- applying the document onto the tree -------------------------------------------------------------


def _meant(root: CommentedMap) -> Any:
    """What the text says once the model has read it (`48h` is `2d`), for a document written from a
    stored definition to match its text where nothing changed; None when the model cannot read it."""
    try:
        campaign = Campaign.model_validate(_plain(root), context={SKIP_SEMANTIC: True})
    except ValidationError:
        return None
    return campaign.model_dump(mode="json", exclude_unset=True)


def _merged(old: Any, new: Any, meant: Any) -> Any:
    """What stands where `old` stood once `new` is applied: `old` itself, changed in place when both
    are collections of one kind or when nothing changed (as written, or as `meant`, the model's reading
    of it), else `new` (a text keeps its quoting)."""
    if isinstance(old, CommentedMap) and isinstance(new, Mapping):
        _merge_map(old, new, meant)
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        _merge_seq(old, new, meant)
        return old
    if _same(old, new) or (meant is not None and meant == new):
        return old
    if isinstance(old, ScalarString) and isinstance(new, str):
        return type(old)(new)
    return _laid_out(new)


def _merge_map(old: CommentedMap, new: Mapping[str, Any], meant: Any) -> None:
    wanted = {str(key) for key in new}
    for key in [key for key in old if str(key) not in wanted]:
        del old[key]
        old.ca.items.pop(key, None)
    for key, value in new.items():
        have = next((mine for mine in old if str(mine) == str(key)), None)
        if have is None:
            place = _place(old, new, key)
            old.insert(place, key, _laid_out(value))
            if place:
                _move_tail(old, list(old)[place - 1], key)
            continue
        merged = _merged(old[have], value, _by_name(meant, key) if isinstance(meant, Mapping) else None)
        if merged is not old[have]:
            old[have] = merged


def _place(old: CommentedMap, new: Mapping[str, Any], key: Any) -> int:
    """Where a new key goes: after the last key before it in `new` that `old` has."""
    names = [str(mine) for mine in old]
    place = 0
    for before in new:
        if before == key:
            break
        if str(before) in names:
            place = names.index(str(before)) + 1
    return place


def _merge_seq(old: CommentedSeq, new: list[Any], meant: Any) -> None:
    pairs = _aligned(old, new)
    read = meant if isinstance(meant, list) and len(meant) == len(old) else [None] * len(old)
    kept = iter([read[index] for index, paired in pairs if index is not None and paired is not None])
    for index in sorted((index for index, paired in pairs if paired is None and index is not None), reverse=True):
        _drop_item(old, index)
    matched = {paired for index, paired in pairs if index is not None and paired is not None}
    for position, value in enumerate(new):  # the kept items are in order: each new one goes between
        if position in matched:
            merged = _merged(old[position], value, next(kept))
            if merged is not old[position]:
                old[position] = merged
        else:
            old.insert(position, _laid_out(value))
            if position:
                _move_tail(old, position - 1, position)


def _drop_item(seq: CommentedSeq, index: int) -> None:
    list.__delitem__(seq, index)
    seq.ca.items.pop(index, None)
    for later in sorted(key for key in seq.ca.items if key > index):
        seq.ca.items[later - 1] = seq.ca.items.pop(later)


def _move_tail(parent: CommentedMap | CommentedSeq, before: Any, added: Any) -> None:
    """The comment lines after entry `before` (ruamel keeps the comments above an entry at the end of
    the one before it) go after the entry `added` just put behind it: they were above what follows."""
    lines = _detached_tail(parent, before)
    if lines:
        holder, key = _last_entry(parent, added)
        slot = 2 if isinstance(holder, CommentedMap) else 0
        holder.ca.items.setdefault(key, [None, None, None, None])[slot] = CommentToken("\n" + lines, CommentMark(0))


def _last_entry(parent: CommentedMap | CommentedSeq, key: Any) -> tuple[CommentedMap | CommentedSeq, Any]:
    """The collection and key where the comments after entry `key` of `parent` are kept: its deepest
    last entry in block style."""
    value = parent[key]
    if isinstance(value, CommentedMap | CommentedSeq) and value and not value.fa.flow_style():
        return _last_entry(value, list(value)[-1] if isinstance(value, CommentedMap) else len(value) - 1)
    return parent, key


def _detached_tail(parent: CommentedMap | CommentedSeq, key: Any) -> str:
    """The comment lines after entry `key` (without a comment on its own last line), taken off it."""
    taken = ""
    value = parent[key]
    if isinstance(value, CommentedMap | CommentedSeq) and value and not value.fa.flow_style():
        taken = _detached_tail(value, list(value)[-1] if isinstance(value, CommentedMap) else len(value) - 1)
        if isinstance(value, CommentedSeq) and value.ca.end:
            taken += "".join(token.value for token in value.ca.end)
            value.ca.end = []
        return taken
    slots = parent.ca.items.get(key)
    slot = 2 if isinstance(parent, CommentedMap) else 0
    token = slots[slot] if slots and len(slots) > slot else None
    if isinstance(token, CommentToken):
        own, newline, rest = token.value.partition("\n")
        if rest:
            token.value = own + newline
            if not own.strip():
                slots[slot] = None
            taken = rest + taken
    return taken


def _aligned(old: list[Any], new: list[Any]) -> list[tuple[int | None, int | None]]:
    """Pairs (old index, new index) of the items that are one item, (i, None) for a removed one and
    (None, j) for an added one: by a question's id or an option's key, else by position."""
    matcher = difflib.SequenceMatcher(None, _identities(old), _identities(new), autojunk=False)
    pairs: list[tuple[int | None, int | None]] = []
    for _, old_from, old_to, new_from, new_to in matcher.get_opcodes():
        both = min(old_to - old_from, new_to - new_from)  # a replaced item (a renamed id) stays one item
        pairs += [(old_from + step, new_from + step) for step in range(both)]
        pairs += [(index, None) for index in range(old_from + both, old_to)]
        pairs += [(None, index) for index in range(new_from + both, new_to)]
    return pairs


def _identities(items: list[Any]) -> list[str]:
    named = []
    for position, item in enumerate(items):
        name = next((item[key] for key in IDENTITIES if isinstance(item, Mapping) and key in item), None)
        if name is None and not isinstance(item, Mapping | list):
            name = item
        named.append(f"={name}" if name is not None else f"#{position}")
    return named


def _by_name(mapping: Mapping[Any, Any], key: Any) -> Any:
    """The value of `key` (1 and "1" are one key: the model keeps scale branches as text); None."""
    return next((value for name, value in mapping.items() if str(name) == str(key)), None)


def _same(old: Any, new: Any) -> bool:
    plain = _plain_scalar(old)
    return type(plain) is type(new) and bool(plain == new)


def _plain(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {_plain_scalar(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value) for value in node]
    return _plain_scalar(node)


def _plain_scalar(value: Any) -> Any:
    for kind in (bool, str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return value


# --- a new value's layout ----------------------------------------------------------------------------


def _laid_out(node: Any) -> Any:
    if isinstance(node, Mapping):
        return _styled(CommentedMap((str(key), _laid_out(value)) for key, value in node.items()), node)
    if isinstance(node, list):
        return _styled(CommentedSeq(_laid_out(value) for value in node), node)
    return node


def _styled(made: CommentedMap | CommentedSeq, node: Mapping[str, Any] | list[Any]) -> CommentedMap | CommentedSeq:
    values = node.values() if isinstance(node, Mapping) else node
    if node and all(_scalar(value) for value in values) and _length(node) <= SHORT:
        made.fa.set_flow_style()
    else:
        made.fa.set_block_style()
    return made


def _scalar(value: Any) -> bool:
    return not isinstance(value, Mapping | list)


def _length(node: Mapping[str, Any] | list[Any]) -> int:
    values = [*node.keys(), *node.values()] if isinstance(node, Mapping) else node
    return sum(len(str(value)) + 2 for value in values)
