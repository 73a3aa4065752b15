"""Checks that need the whole campaign: ids, options, `next` targets, translations, cycles.

Each problem carries the path of the node it concerns so the loader can point at its line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from flows.model import END, Campaign, LocalText, Question

Path = tuple[str | int, ...]
YESNO_KEYS = ("yes", "no")


def format_path(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str
    # Whether the problem is the mapping key itself (e.g. an unknown option in `next`) or its value.
    part: Literal["key", "value"] = "value"

    def __str__(self) -> str:
        return f"{format_path(self.path)}: {self.message}" if self.path else self.message


def answer_keys(question: Question) -> tuple[str, ...]:
    return YESNO_KEYS if question.type == "yesno" else tuple(o.key for o in question.options)


def find_problems(campaign: Campaign) -> list[Problem]:
    problems = [
        *_ids(campaign),
        *_options(campaign),
        *_next_targets(campaign),
        *_translations(campaign),
    ]
    # A cycle is only meaningful once every id and target is known and unique.
    if not problems:
        problems.extend(_cycles(campaign))
    return problems


def _ids(campaign: Campaign) -> Iterator[Problem]:
    first_at: dict[str, int] = {}
    for i, q in enumerate(campaign.questions):
        path: Path = ("questions", i, "id")
        if q.id == END:
            yield Problem(path, f"'{END}' is reserved for ending the conversation; rename this question")
        elif q.id in first_at:
            yield Problem(
                path,
                f"duplicate question id '{q.id}' (also questions[{first_at[q.id]}]); "
                "give each question its own id",
            )
        else:
            first_at[q.id] = i


def _options(campaign: Campaign) -> Iterator[Problem]:
    for i, q in enumerate(campaign.questions):
        if q.type == "yesno" and "options" in q.model_fields_set:
            yield Problem(
                ("questions", i, "options"), "a yesno question takes no options (yes/no); remove options"
            )
        if q.type == "choice" and not q.options:
            yield Problem(
                ("questions", i, "options"), "a choice question needs options; list them under options"
            )
        seen: set[str] = set()
        for j, option in enumerate(q.options):
            if option.key in seen:
                yield Problem(
                    ("questions", i, "options", j, "key"),
                    f"duplicate option key '{option.key}'; give each option its own key",
                )
            seen.add(option.key)


def _next_targets(campaign: Campaign) -> Iterator[Problem]:
    ids = [q.id for q in campaign.questions]
    known = f"known: {', '.join(ids)} (or {END})"

    def bad_target(target: str) -> bool:
        return target != END and target not in ids

    for i, q in enumerate(campaign.questions):
        path: Path = ("questions", i, "next")
        if isinstance(q.next, str):
            if bad_target(q.next):
                yield Problem(path, f"unknown question '{q.next}'; {known}")
        elif isinstance(q.next, dict):
            keys = answer_keys(q)
            for key, target in q.next.items():
                if key not in keys:
                    yield Problem(
                        (*path, key), f"unknown option '{key}'; options: {', '.join(keys)}", part="key"
                    )
                if bad_target(target):
                    yield Problem((*path, key), f"unknown question '{target}'; {known}")


def _local_texts(campaign: Campaign) -> Iterator[tuple[Path, LocalText]]:
    if campaign.intro is not None:
        yield ("intro",), campaign.intro
    if campaign.outro is not None:
        yield ("outro",), campaign.outro
    for i, q in enumerate(campaign.questions):
        yield ("questions", i, "text"), q.text
        for j, option in enumerate(q.options):
            yield ("questions", i, "options", j, "text"), option.text


def _translations(campaign: Campaign) -> Iterator[Problem]:
    languages = campaign.languages
    listed = ", ".join(languages)
    for path, text in _local_texts(campaign):
        missing = [lang for lang in languages if lang not in text]
        if missing:
            yield Problem(
                path, f"missing translation for {', '.join(missing)}; every text needs all of: {listed}"
            )
        for lang, value in text.items():
            if lang not in languages:
                yield Problem(
                    (*path, lang),
                    f"language '{lang}' is not in the campaign's languages: {listed}",
                    part="key",
                )
            elif not value.strip():
                yield Problem((*path, lang), f"the {lang} text is empty")


def _cycles(campaign: Campaign) -> Iterator[Problem]:
    index = {q.id: i for i, q in enumerate(campaign.questions)}

    def targets(q: Question) -> list[str]:
        found = [campaign.next_id(q, key) for key in answer_keys(q)] + [campaign.default_next(q)]
        return [t for t in dict.fromkeys(found) if t != END]

    # Depth-first search with colours; a grey target closes a cycle.
    state: dict[str, Literal["grey", "black"]] = {}
    stack: list[str] = []
    reported: set[frozenset[str]] = set()

    def visit(qid: str) -> Iterator[Problem]:
        state[qid] = "grey"
        stack.append(qid)
        for target in targets(campaign.questions[index[qid]]):
            if state.get(target) == "grey":
                loop = stack[stack.index(target) :]
                if frozenset(loop) not in reported:
                    reported.add(frozenset(loop))
                    yield _cycle_problem(campaign, index, loop)
            elif target not in state:
                yield from visit(target)
        stack.pop()
        state[qid] = "black"

    for q in campaign.questions:
        if q.id not in state:
            yield from visit(q.id)


def _cycle_problem(campaign: Campaign, index: dict[str, int], loop: list[str]) -> Problem:
    # Implicit "next in the list" edges always move forward, so every loop has an explicit `next`
    # that goes back (or to itself); point at that one.
    edges = list(zip(loop, [*loop[1:], loop[0]], strict=True))
    source, target = next((s, t) for s, t in edges if index[t] <= index[s])
    i = index[source]
    q = campaign.questions[i]
    path: Path = ("questions", i, "next")
    if isinstance(q.next, dict):
        path = (*path, next(k for k, v in q.next.items() if v == target))
    chain = " -> ".join([*loop, loop[0]])
    return Problem(
        path,
        f"'{target}' leads back to an earlier question, making a loop ({chain}); "
        "branches must only move forward",
    )
