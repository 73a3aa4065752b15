"""What the campaign page's live results add to its per-question charts: the results weighted to the
campaign's margins (or why there are none), the response rate over time and by channel and district,
who answered (the usual-suspects meter) and the free-text groups. Each is read the way the read API
reads it (the same builders), so the page and GET /api/v1/campaigns/{id}/results cannot disagree.

The per-question counts and the progress per channel are read on every refresh. Everything here grows
with the respondents (raking, counting every respondent's history, stemming every text answer, a probe
per resident asked; bench/campaign_page.py: 33 s on SQLite for a million answers before the meter was
counted in SQL, storage.meter_counts), so it is kept per campaign and language (SlowFiguresCache) and
made again only when the campaign's answers changed and the kept figures are older than SLOW_REFRESH,
or ten times what they took to make: a page refreshed every 10 s, open in several browsers, spends at
most about a tenth of its time on them. The page says when they were counted.

They are made off the event loop: their rows are read in the loop (an AsyncSession is not
thread-safe; each read in a session of its own, side by side, so the database works on them at once;
the free-text groups are made in a worker thread as soon as their answers are read, beside the meter's
counting), then built in a worker thread (build_slow_figures), so residents' webhooks and other pages are answered
meanwhile; views of a campaign arriving while its figures are being made wait for those (one lock per
campaign and language) instead of making them again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

from flows.campaign import Campaign
from flows.explanation import Explanation
from outreach.clock import Clock
from outreach.participation.models import ParticipationMeter
from outreach.participation.reports import campaign_meter
from outreach.results.free_text import FreeTextQuestion, build_free_text, read_text_answers
from outreach.results.weighted import WeightingCells, build_weighted_results, read_weighting_cells
from outreach.results.weighted_models import WeightedResults
from outreach.results.weighting_request import WeightingRequest
from outreach.survey.margins import MarginsError
from outreach.survey.weighting_error import WeightingError
from outreach.web.admin.rate_charts import RateChart, Timeline, rate_charts, timeline
from outreach.web.admin.weighted_charts import WeightedChart, weighted_charts
from storage.db import SessionFactory, read_session
from storage.read_models import CampaignResults
from storage.response_rates import RateCell, asked_by_hour, first_answers_by_hour, rate_cells
from storage.tables import CampaignRecord

log = logging.getLogger(__name__)
SLOW_REFRESH = timedelta(minutes=1)
SLOW_COST_FACTOR = 10  # kept for at least this many times what they took to make


@dataclass(frozen=True)
class Weighting:
    """The weighted results, or why the page shows none."""

    margins: str | None  # the campaign's margins (audience.sample.margins); None: it names none
    request: WeightingRequest | None
    results: WeightedResults | None
    charts: list[WeightedChart]
    problem: str | None  # why weights could not be made, as the weighting said it
    # The problem in words the page translates, when it has them (the margins' problems do).
    explanation: Explanation | None = None


@dataclass(frozen=True)
class FreeTextPanel:
    text: str  # the question, in the page's language
    figures: FreeTextQuestion


@dataclass(frozen=True)
class SlowFigures:
    """The figures that cost time in proportion to the respondents, and when they were made."""

    weighting: Weighting
    meter: ParticipationMeter
    free_text: list[FreeTextPanel]
    timeline: Timeline
    rates: list[RateChart]
    counted_at: datetime
    answers: tuple[int, ...]  # the campaign's answers when they were made (answers_mark)
    took: timedelta = timedelta(0)  # by the service's clock


@dataclass(frozen=True)
class ResultsPanels:
    slow: SlowFigures
    now: datetime  # when the page was read: slow.counted_at, unless the slow figures were kept

    @property
    def weighting(self) -> Weighting:
        return self.slow.weighting

    @property
    def free_text(self) -> list[FreeTextPanel]:
        return self.slow.free_text

    @property
    def timeline(self) -> Timeline:
        return self.slow.timeline

    @property
    def rates(self) -> list[RateChart]:
        return self.slow.rates


def answers_mark(results: CampaignResults) -> tuple[int, ...]:
    """What changes whenever an answer is stored, read off the per-question counts the page reads anyway."""
    stored = sum(figures.answered + figures.unanswered for figures in results.questions.values())
    return (results.contacted, results.respondents, stored)


@dataclass(frozen=True)
class SlowInputs:
    """Everything the slow figures are made from, read in the event loop; the making (build_slow_figures)
    needs no session, so it runs in a worker thread (an AsyncSession is not thread-safe)."""

    campaign_id: int
    flow: Campaign
    language: str
    k: int
    answers: tuple[int, ...]
    now: datetime
    cells: list[RateCell]
    asked: dict[datetime, int]
    answered: dict[datetime, int]
    meter: ParticipationMeter  # made in the loop: counted in the database, a few dozen rows
    weighting: WeightingRequest | None
    weighting_cells: WeightingCells | None
    margins_problem: MarginsError | None  # the margins the weighting names could not be read
    # Grouped as soon as read, in a worker thread, while the database still counts the meter.
    free_text: list[FreeTextQuestion]


def _weighting(inputs: SlowInputs, campaign_id: int) -> Weighting:
    request = inputs.weighting
    if request is None:
        return Weighting(None, None, None, [], None)
    if inputs.weighting_cells is None:
        refused = inputs.margins_problem
        problem = str(refused) if refused else "no margins"
        log.info("campaign %s: the page shows no weighted results: %s", campaign_id, problem)
        return Weighting(request.margins, request, None, [], problem, refused.explanation if refused else None)
    try:
        results = build_weighted_results(inputs.weighting_cells, inputs.flow, request, k=inputs.k)
    except (MarginsError, WeightingError) as error:
        log.info("campaign %s: the page shows no weighted results: %s", campaign_id, error)
        explanation = error.explanation if isinstance(error, MarginsError) else None
        return Weighting(request.margins, request, None, [], str(error), explanation)
    return Weighting(request.margins, request, results, weighted_charts(inputs.flow, results, inputs.language), None)


def build_slow_figures(inputs: SlowInputs) -> SlowFigures:
    """The slow figures from what was read: CPU only, no session, no event loop."""
    flow, language = inputs.flow, inputs.language
    texts = {question.id: question.text[language] for question in flow.questions}
    return SlowFigures(
        weighting=_weighting(inputs, inputs.campaign_id),
        meter=inputs.meter,
        free_text=[FreeTextPanel(texts[figures.id], figures) for figures in inputs.free_text],
        timeline=timeline(inputs.asked, inputs.answered),
        rates=rate_charts(inputs.cells, inputs.k),
        counted_at=inputs.now,
        answers=inputs.answers,
    )


class SlowFiguresCache:
    """SlowFigures per (campaign, language), in this process; made again when the campaign's answers
    changed and they are older than SLOW_REFRESH and than SLOW_COST_FACTOR times what they took.
    `build` makes them from what was read, in a worker thread; views that find none kept wait for the
    one making them (making(): one lock per campaign and language) instead of making them again."""

    def __init__(self, build: Callable[[SlowInputs], SlowFigures] = build_slow_figures) -> None:
        self.build = build
        self._kept: dict[tuple[int, str], SlowFigures] = {}
        self._making: dict[tuple[int, str], asyncio.Lock] = {}

    def kept(self, campaign_id: int, language: str, answers: tuple[int, ...], now: datetime) -> SlowFigures | None:
        figures = self._kept.get((campaign_id, language))
        if figures is None:
            return None
        if figures.answers == answers or now - figures.counted_at < max(SLOW_REFRESH, SLOW_COST_FACTOR * figures.took):
            return figures
        return None

    def keep(self, campaign_id: int, language: str, figures: SlowFigures) -> None:
        self._kept[(campaign_id, language)] = figures

    def making(self, campaign_id: int, language: str) -> asyncio.Lock:
        return self._making.setdefault((campaign_id, language), asyncio.Lock())


def weighting_of(flow: Campaign) -> WeightingRequest | None:
    """The campaign's own weighting, as its results-back message uses it: to its sample's margins, on its
    strata (none named: every dimension of the margins)."""
    sample = flow.audience.sample
    if sample is None or sample.margins is None:
        return None
    return WeightingRequest(sample.margins, tuple(sample.strata))


async def _rates(
    sessions: SessionFactory, campaign_id: int
) -> tuple[list[RateCell], dict[datetime, int], dict[datetime, int]]:
    async with read_session(sessions) as session:
        cells = await rate_cells(session, campaign_id)
        asked = await asked_by_hour(session, campaign_id)
        answered = await first_answers_by_hour(session, campaign_id)
    return cells, asked, answered


async def _weighting_cells(
    sessions: SessionFactory, record: CampaignRecord, request: WeightingRequest | None
) -> tuple[WeightingCells | None, MarginsError | None]:
    """The cells to weigh, or why there are none (the margins could not be read)."""
    if request is None:
        return None, None
    try:
        return await read_weighting_cells(sessions, record, request), None
    except MarginsError as error:
        return None, error


async def _free_text(sessions: SessionFactory, record: CampaignRecord, flow: Campaign) -> list[FreeTextQuestion]:
    """The free-text groups, made in a worker thread once their answers are read: the scrubbing and
    stemming (Python, holding the GIL) then run beside the meter's counting (the database's)."""
    return await asyncio.to_thread(build_free_text, flow, await read_text_answers(sessions, record, flow))


Read = TypeVar("Read")


def _started(reads: list[asyncio.Task[object]], read: Coroutine[object, object, Read]) -> asyncio.Task[Read]:
    task = asyncio.create_task(read)
    reads.append(task)
    return task


async def _read_slow_inputs(
    sessions: SessionFactory,
    record: CampaignRecord,
    flow: Campaign,
    language: str,
    k: int,
    answers: tuple[int, ...],
    now: datetime,
) -> SlowInputs:
    assert record.id is not None
    request = weighting_of(flow)
    # Each read in a session of its own, side by side: the database works on them at once (on 2 CPUs
    # the meter's counting runs beside the rest). All run to their end; .result() raises a failure.
    reads: list[asyncio.Task[object]] = []
    rates = _started(reads, _rates(sessions, record.id))
    weighting = _started(reads, _weighting_cells(sessions, record, request))
    meter = _started(reads, campaign_meter(sessions, record, k=k))
    texts = _started(reads, _free_text(sessions, record, flow))
    try:
        await asyncio.wait(reads)
    finally:
        for read in reads:
            read.cancel()  # the page's request was cancelled meanwhile: nobody waits for them
    cells, asked, answered = rates.result()
    weighting_cells, margins_problem = weighting.result()
    return SlowInputs(
        campaign_id=record.id,
        flow=flow,
        language=language,
        k=k,
        answers=answers,
        now=now,
        cells=cells,
        asked=asked,
        answered=answered,
        meter=meter.result(),
        weighting=request,
        weighting_cells=weighting_cells,
        margins_problem=margins_problem,
        free_text=texts.result(),
    )


async def results_panels(
    sessions: SessionFactory,
    record: CampaignRecord,
    flow: Campaign,
    language: str,
    *,
    k: int,
    results: CampaignResults,
    cache: SlowFiguresCache,
    clock: Clock,
) -> ResultsPanels:
    """The panels of the campaign whose per-question counts are `results` (read just before). Their slow
    figures are made off the event loop: residents' replies must not wait for an official's page."""
    assert record.id is not None
    language = language if language in flow.languages else flow.languages[0]
    answers = answers_mark(results)
    now = clock()
    slow = cache.kept(record.id, language, answers, now)
    if slow is None:
        async with cache.making(record.id, language):
            # Another view may have made them while this one waited.
            slow = cache.kept(record.id, language, answers, now)
            if slow is None:
                inputs = await _read_slow_inputs(sessions, record, flow, language, k, answers, now)
                made = await asyncio.to_thread(cache.build, inputs)
                slow = replace(made, took=clock() - now)
                cache.keep(record.id, language, slow)
    return ResultsPanels(slow=slow, now=now)
