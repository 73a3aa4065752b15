"""Checks that need the whole campaign: ids, each question's rules, `next`, translations, schedule, cycles.

Each problem carries the path of the node it concerns so the loader can point at its line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from flows.model import BRANCHING_TYPES, END, OTHER, CampaignDefinition, FixedAllocation, LocalText, Question
from flows.problems import Path, Problem, format_path
from flows.question_rules import question_problems
from flows.results_back_rules import results_back_problems
from flows.timing import format_duration

__all__ = ["Path", "Problem", "find_problems", "format_path"]

UNKNOWN_QUESTION = "unknown question '%(target)s'; known: %(known)s (or %(end)s)"
UNKNOWN_BRANCH = {
    "unknown_option": "unknown option '%(key)s'; options: %(keys)s",
    "unknown_option_or_other": "unknown option '%(key)s'; options: %(keys)s (or %(other)s for every other answer)",
    "unknown_scale_value": "unknown scale value '%(key)s'; scale values: %(keys)s",
    "unknown_scale_value_or_other": (
        "unknown scale value '%(key)s'; scale values: %(keys)s (or %(other)s for every other answer)"
    ),
}
MISSING_TRANSLATION = "missing translation for %(missing)s; every text needs all of: %(listed)s"


def find_problems(campaign: CampaignDefinition) -> list[Problem]:
    problems = [
        *_ids(campaign),
        *(p for i, q in enumerate(campaign.questions) for p in question_problems(q, ("questions", i))),
        *_next_targets(campaign),
        *_translations(campaign),
        *_schedule(campaign),
        *_whatsapp(campaign),
        *_sample(campaign),
        *_reminders(campaign),
        *results_back_problems(campaign),
    ]
    # A cycle is only meaningful once every id, range and target is known and sound.
    if not problems:
        problems.extend(_cycles(campaign))
    return problems


def _ids(campaign: CampaignDefinition) -> Iterator[Problem]:
    first_at: dict[str, int] = {}
    for i, q in enumerate(campaign.questions):
        path: Path = ("questions", i, "id")
        if q.id == END:
            yield Problem.explained(
                path, "reserved_id", "'%(end)s' is reserved for ending the conversation; rename this question", end=END
            )
        elif q.id in first_at:
            yield Problem.explained(
                path,
                "duplicate_id",
                "duplicate question id '%(id)s' (also questions[%(first)s]); give each question its own id",
                id=q.id,
                first=first_at[q.id],
            )
        else:
            first_at[q.id] = i


def _next_targets(campaign: CampaignDefinition) -> Iterator[Problem]:
    ids = [q.id for q in campaign.questions]
    known = ", ".join(ids)

    def bad_target(target: str) -> bool:
        return target != END and target not in ids

    for i, q in enumerate(campaign.questions):
        path: Path = ("questions", i, "next")
        if isinstance(q.next, str):
            if bad_target(q.next):
                yield Problem.explained(path, "unknown_question", UNKNOWN_QUESTION, target=q.next, known=known, end=END)
        elif isinstance(q.next, dict):
            if q.type not in BRANCHING_TYPES:
                yield Problem.explained(
                    path,
                    "branching_unsupported",
                    "branching by answer works for %(types)s and %(last)s questions;"
                    " give this %(type)s question one question id or %(end)s",
                    types=", ".join(BRANCHING_TYPES[:-1]),
                    last=BRANCHING_TYPES[-1],
                    type=q.type,
                    end=END,
                )
                continue
            yield from _branch_keys(q, path)
            for key, target in q.next.items():
                if bad_target(target):
                    yield Problem.explained(
                        (*path, key), "unknown_question", UNKNOWN_QUESTION, target=target, known=known, end=END
                    )


def _branch_keys(q: Question, path: Path) -> Iterator[Problem]:
    assert isinstance(q.next, dict)
    keys = q.branch_keys()
    if q.type == "scale" and not keys:
        return  # the broken range is reported on its own
    scale = q.type == "scale"
    for key in q.next:
        if key not in keys and key != OTHER:
            code = ("unknown_scale_value" if scale else "unknown_option") + ("" if OTHER in keys else "_or_other")
            params = {"key": key, "keys": ", ".join(keys), "other": OTHER}
            yield Problem.explained((*path, key), code, UNKNOWN_BRANCH[code], part="key", **params)


def _local_texts(campaign: CampaignDefinition) -> Iterator[tuple[Path, LocalText]]:
    if campaign.intro is not None:
        yield ("intro",), campaign.intro
    if campaign.privacy_notice is not None:
        yield ("privacy_notice",), campaign.privacy_notice
    if campaign.outro is not None:
        yield ("outro",), campaign.outro
    for i, q in enumerate(campaign.questions):
        yield ("questions", i, "text"), q.text
        for j, option in enumerate(q.options):
            yield ("questions", i, "options", j, "text"), option.text
        for end in ("low", "high"):
            label: LocalText | None = getattr(q, end)
            if label is not None:
                yield ("questions", i, end), label
    if campaign.whatsapp is not None:
        for name, text in campaign.whatsapp.variables.items():
            yield ("whatsapp", "variables", name), text


def _whatsapp(campaign: CampaignDefinition) -> Iterator[Problem]:
    if "whatsapp" in campaign.channels and campaign.whatsapp is None:
        index = campaign.channels.index("whatsapp")
        yield Problem.explained(
            ("channels", index),
            "whatsapp_without_template",
            "whatsapp needs an approved template for the first message: add"
            " `whatsapp: {content_sid: HX…, variables: {…}}` or drop the channel",
        )


def _translations(campaign: CampaignDefinition) -> Iterator[Problem]:
    languages = campaign.languages
    listed = ", ".join(languages)
    for path, text in _local_texts(campaign):
        missing = [lang for lang in languages if lang not in text]
        if missing:
            yield Problem.explained(
                path, "missing_translation", MISSING_TRANSLATION, missing=", ".join(missing), listed=listed
            )
        for lang, value in text.items():
            if lang not in languages:
                yield Problem.explained(
                    (*path, lang),
                    "unknown_language",
                    "language '%(lang)s' is not in the campaign's languages: %(listed)s",
                    part="key",
                    lang=lang,
                    listed=listed,
                )
            elif not value.strip():
                yield Problem.explained((*path, lang), "empty_text", "the %(lang)s text is empty", lang=lang)


def _schedule(campaign: CampaignDefinition) -> Iterator[Problem]:
    schedule = campaign.schedule
    start, close = schedule.start, schedule.close
    if start is not None and close is not None and close <= start:
        yield Problem.explained(
            ("schedule", "close"),
            "close_before_start",
            "close (%(close)s) must be after start (%(start)s)",
            close=close.isoformat(),
            start=start.isoformat(),
        )
    # Reminders count from when the question was first asked: each must come later than the one
    # before, and before the time to answer runs out (or it would never be sent).
    for i, after in enumerate(schedule.reminders):
        path: Path = ("schedule", "reminders", i)
        if i and after <= schedule.reminders[i - 1]:
            yield Problem.explained(
                path,
                "reminders_out_of_order",
                "%(after)s is not later than the reminder before it; reminders count"
                " from the first ask, so list them in growing order, e.g. [24h, 3d]",
                after=format_duration(after),
            )
        if campaign.answer_within is not None and after >= campaign.answer_within:
            yield Problem.explained(
                path,
                "reminder_after_answer_window",
                "a reminder after %(after)s comes when answer_within (%(within)s) has run out;"
                " make it shorter or remove it",
                after=format_duration(after),
                within=format_duration(campaign.answer_within),
            )


def _sample(campaign: CampaignDefinition) -> Iterator[Problem]:
    sample = campaign.audience.sample
    if sample is None:
        return
    at: Path = ("audience", "sample")
    fixed = sample.allocation if isinstance(sample.allocation, FixedAllocation) else None
    if sample.size is not None and sample.share is not None:
        yield Problem.explained(
            (*at, "share"), "sample_size_and_share", "give the sample's size or its share of the audience, not both"
        )
    elif sample.size is None and sample.share is None and fixed is None:
        yield Problem.explained(
            at,
            "sample_without_size",
            "a sample needs its size (size: 1200) or its share of the eligible audience (share: 0.05)",
        )
    if fixed is not None:
        total = sum(fixed.fixed.values())
        if not sample.strata:
            yield Problem.explained(
                (*at, "allocation"),
                "fixed_without_strata",
                "fixed counts are per stratum: name the strata (strata: [district])",
            )
        if sample.share is not None:
            yield Problem.explained(
                (*at, "share"), "fixed_and_share", "fixed counts make the size (%(total)s); remove share", total=total
            )
        elif sample.size is not None and sample.size != total:
            yield Problem.explained(
                (*at, "size"),
                "fixed_not_size",
                "the fixed counts add up to %(total)s, not %(size)s; make them agree",
                total=total,
                size=sample.size,
            )
        elif total == 0:
            yield Problem.explained(
                (*at, "allocation"), "fixed_all_zero", "the fixed counts are all 0: nobody would be asked"
            )
    elif sample.allocation == "proportional" and sample.strata and sample.margins is None:
        yield Problem.explained(
            (*at, "strata"),
            "proportional_without_margins",
            "proportional allocation needs the population's margins (margins: gdansk-districts;"
            " `outreach margins list` names them), or use allocation: equal",
        )


def _reminders(campaign: CampaignDefinition) -> Iterator[Problem]:
    reminders = campaign.reminders
    sample = campaign.audience.sample
    if reminders.strategy == "lagging_strata" and (sample is None or not sample.strata):
        yield Problem.explained(
            ("reminders", "strategy"),
            "lagging_strata_without_strata",
            "lagging_strata compares the response rates of the sample's strata: give the audience a sample"
            " with strata (audience: {sample: {size: 1200, strata: [district]}}), or use strategy: uniform",
        )
    if reminders.shared_out and not campaign.schedule.reminders:
        yield Problem.explained(
            ("reminders",),
            "shared_out_without_reminders",
            "no reminder is scheduled, so this would send none: add schedule.reminders (e.g. [24h]) or remove it",
            part="key",
        )


def _cycles(campaign: CampaignDefinition) -> Iterator[Problem]:
    index = {q.id: i for i, q in enumerate(campaign.questions)}

    def targets(q: Question) -> list[str]:
        found = [campaign.next_id(q, key) for key in q.branch_keys()] + [campaign.default_next(q)]
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


def _cycle_problem(campaign: CampaignDefinition, index: dict[str, int], loop: list[str]) -> Problem:
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
        f"'{target}' leads back to an earlier question, making a loop ({chain}); branches must only move forward",
    )
