"""A crash round (issue 18, "Proof under fire"), shared by tests/scenarios/test_crash_round.py (CI: one
round per database, deterministic fault points) and its soak (`make soak`: seeded random kills).

Two or more `outreach serve` OS processes (tests/scenarios/crash_workers.py) run on one database behind a
balancer (tests/servers/balancer.py), Twilio pointed at the stand-in in this process. A campaign of two
questions and a closing message is launched to RESIDENTS residents; each answers what reaches their phone
(tests/scenarios/crash_residents.py), over signed webhooks Twilio retries, some delivered twice. Meanwhile
workers die: at test-only fault points (outreach.faults: send marked started, after the provider's answer,
before a reply's or an outcome's commit) and, in the soak, by SIGKILL from outside at random moments;
each is restarted, and the survivors take over its claims once their lease ends (a short one here), and
reconcile its sends of unknown outcome by Twilio's Messages list.

When everything has settled, the round checks: every reply that got a 2xx is stored, none counted twice
(a resident's answers are exactly the questions they answered), every resident got the first question,
and each duplicate send at the stand-in is one reconciliation logged as resent under on_unknown.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from channels.standins.twilio import TwilioStandIn
from outreach.bootstrap import Services
from outreach.faults import POINTS
from storage import inbound_queue
from storage.address_keys import address_of
from storage.tables import ContactAddress, InboundEvent, OutboxMessage, Response
from storage.unknown_sends import UnknownSendRepository
from tests.conftest import ManualClock
from tests.factories import add_resident
from tests.outreach.helpers import launch
from tests.providers import SMS_FROM, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN
from tests.scenarios.crash_residents import Residents
from tests.scenarios.crash_workers import Workers
from tests.scenarios.tram_campaign import QUESTIONS, TRAM_CAMPAIGN
from tests.scenarios.waiting import eventually
from tests.servers.balancer import Balancer

CAMPAIGN = TRAM_CAMPAIGN + 'outro: {pl: "Dziękujemy za odpowiedzi."}\n'  # the closing message: give_up if unknown
UNFINISHED = ("queued", "claimed", "sending")
RANDOM_FAULTS = [point for point in POINTS if point != "before_commit"]  # its two parts are drawn instead


@dataclass(frozen=True)
class Chaos:
    """What kills the workers: `faults`, each worker's fault points (by slot) one per life in order (each
    must fire); `random_kills` SIGKILLs from outside at seeded random moments; `random_faults` a random fault point
    for half the restarts."""

    seed: int = 0
    faults: tuple[tuple[str, ...], ...] = ()
    random_kills: int = 0
    random_faults: bool = False


@dataclass
class RoundReport:
    database: str
    seed: int
    kills: int  # SIGKILL from outside
    fired: list[str]  # fault points that killed a worker
    replies: int  # replies the residents sent (each a distinct MessageSid)
    acknowledged: int  # replies that got a 2xx
    stored: int  # acknowledged replies stored (inbound events)
    duplicate_deliveries: int  # replies the provider delivered again after a 2xx
    duplicate_sends: int  # messages a phone got more than once at the stand-in
    resent: int  # sends of unknown outcome resent under on_unknown, as logged
    unknown: dict[str, int]  # what reconciliation made of the sends of unknown outcome
    without_first: int  # residents never sent the first question
    seconds: float = 0.0  # the whole round
    settling: float = 0.0  # from the last kill's restart until nothing was left to do
    violations: list[str] = field(default_factory=list)

    HEADER = (
        "| database | seed | kills | faults fired | replies acked / stored | duplicate deliveries "
        "| duplicate sends | unknown: confirmed / requeued / resent / given up | without first question "
        "| seconds (settling) | violations |\n|---|---:|---:|---|---:|---:|---:|---|---:|---:|---|"
    )

    def row(self) -> str:
        unknown = "{confirmed} / {not_seen} / {resent} / {given_up}".format(**self.unknown)
        fired = ", ".join(f"{point} ×{count}" for point, count in sorted(Counter(self.fired).items())) or "-"
        return (
            f"| {self.database} | {self.seed} | {self.kills} | {fired} | {self.acknowledged} / {self.stored} "
            f"| {self.duplicate_deliveries} | {self.duplicate_sends} | {unknown} | {self.without_first} "
            f"| {self.seconds:.1f} ({self.settling:.1f}) | {'; '.join(self.violations) or 'none'} |"
        )


def worker_settings(database_url: str, folder: Path, public_url: str, twilio_url: str) -> dict[str, str]:
    return {
        "OUTREACH_DATABASE_URL": database_url,
        "OUTREACH_PUBLIC_URL": public_url,  # the balancer: what Twilio calls and signs
        "OUTREACH_TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
        "OUTREACH_TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "OUTREACH_TWILIO_FROM": SMS_FROM,
        "OUTREACH_TWILIO_API_URL": twilio_url,
        "OUTREACH_SPOOL_DIR": str(folder / "spool"),
        "OUTREACH_LOG_LEVEL": "WARNING",
        # A dead worker's claims are taken over after 4 s, its unknown sends reconciled every half second,
        # and a send missing from the stand-in's list (which does not lag) counts as never sent after 1 s.
        "OUTREACH_CLAIM_LEASE_SECONDS": "4",
        "OUTREACH_RECONCILE_SECONDS": "0.5",
        "OUTREACH_TWILIO_LIST_GRACE_SECONDS": "1",
        "OUTREACH_DISPATCHER_POLL_SECONDS": "0.1",
        "OUTREACH_DISPATCHER_BATCH_SIZE": "20",
        "OUTREACH_RATE_SMS_SEGMENTS_PER_SECOND": "1000",
        "OUTREACH_SEND_BACKOFF_SECONDS": "0.5",  # a send that failed for a while is tried again within the round
        # Replies a dead worker stored and had not handled are taken over after 4 s, looked for twice a second.
        "OUTREACH_INBOUND_LEASE_SECONDS": "4",
        "OUTREACH_INBOUND_SWEEP_SECONDS": "0.5",
    }


def phones(count: int) -> list[str]:
    return [f"+4860030{number:04d}" for number in range(count)]


async def crash_round(
    services: Services,
    clock: ManualClock,
    database_url: str,
    folder: Path,
    chaos: Chaos,
    *,
    residents: int = 300,
    workers: int = 2,
    roles: tuple[str, ...] = (),  # what each worker runs (crash_workers.COMMANDS): all `serve` unless told
    settle_seconds: float = 240.0,  # a bound, not a wait: a loaded 2-CPU machine took 90 s and more
) -> RoundReport:
    started = time.monotonic()
    clock.now = datetime.now(UTC)  # the workers run on the wall clock: the launch's rows are due for them
    for phone in phones(residents):
        await add_resident(services, phone=phone)
    rng = random.Random(chaos.seed)
    async with (
        TwilioStandIn(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN) as standin,
        Workers({}, folder, workers, roles) as pool,  # stopped however the round ends
        Balancer(pool.ports) as balancer,
    ):
        pool.settings = worker_settings(database_url, folder, balancer.url, standin.base_url)
        people = Residents(standin, balancer.url, QUESTIONS, rng)
        plans = [list(chaos.faults[slot]) if slot < len(chaos.faults) else [] for slot in range(workers)]
        await asyncio.gather(
            *(pool.start(slot, plans[slot].pop(0) if plans[slot] else None) for slot in range(workers))
        )
        await launch(services, CAMPAIGN)
        stopping = asyncio.Event()
        supervisors = [
            asyncio.create_task(_supervise(pool, slot, plans[slot], chaos, rng, stopping)) for slot in range(workers)
        ]
        try:
            await _kill_at_random(pool, chaos, rng)
            try:
                await eventually(lambda: _faults_spent(pool, chaos, plans, supervisors), within=settle_seconds)
            except AssertionError as error:  # say which point never came, and what the workers were doing
                raise AssertionError(
                    f"{error}: fired {pool.fired()}, still planned {plans}, "
                    f"alive {[worker.alive for worker in pool.workers]}, replies {len(people.replies)}, "
                    f"unfinished sends {await _unfinished(services)}"
                ) from None
            stopping.set()
            await asyncio.gather(*supervisors)
            for slot in range(workers):  # every worker runs to the end, without a fault point
                await pool.restart_clean(slot)
            chaos_ended = time.monotonic()
            await _settled(services, people, folder / "spool", within=settle_seconds)
            settling = time.monotonic() - chaos_ended
        finally:
            stopping.set()
            for supervisor in supervisors:
                supervisor.cancel()
            await asyncio.gather(*supervisors, return_exceptions=True)
            await pool.stop()  # before the report: every write the workers make is in
        report = await _report(services, database_url, pool, people, chaos, residents)
        if spooled := _spooled(folder / "spool"):
            report.violations.append(f"{spooled} spooled replies never applied")
        if queued := await _queued(services):
            report.violations.append(f"{queued} queued replies never handled")
    report.seconds, report.settling = time.monotonic() - started, settling
    return report


async def _supervise(
    pool: Workers, slot: int, plan: list[str], chaos: Chaos, rng: random.Random, stopping: asyncio.Event
) -> None:
    """Restart the slot's worker whenever it died, until `stopping`: with its next planned fault point,
    else, in a random round, with a random one for half the restarts."""
    while not stopping.is_set():
        if pool.ended(slot):
            fault = None
            if plan:
                fault = plan.pop(0)
            elif chaos.random_faults and rng.random() < 0.5:
                fault = f"{rng.choice(RANDOM_FAULTS)}:{rng.randint(1, 40)}"
            await pool.start(slot, fault)
        await asyncio.sleep(0.05)


async def _kill_at_random(pool: Workers, chaos: Chaos, rng: random.Random) -> None:
    """`random_kills` SIGKILLs, each of a running worker drawn at random, at random moments."""
    for _ in range(chaos.random_kills):
        await asyncio.sleep(rng.uniform(0.3, 2.5))
        # other processes: when all died at fault points, the next kill waits for one to come back
        while not (running := [worker.slot for worker in pool.workers if worker.alive]):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        pool.kill(rng.choice(running))


async def _faults_spent(
    pool: Workers, chaos: Chaos, plans: list[list[str]], supervisors: list[asyncio.Task[None]]
) -> bool:
    """Every planned fault point fired, and the workers they killed were started again; a supervisor's
    error (a restart that never served) is raised at once rather than waited out."""
    for supervisor in supervisors:
        if supervisor.done():
            supervisor.result()
    planned = sum(len(faults) for faults in chaos.faults)
    return not any(plans) and len(pool.fired()) >= planned and all(worker.alive for worker in pool.workers)


async def _settled(services: Services, people: Residents, spool: Path, *, within: float) -> None:
    """Wait until no reply is on its way and the outbox has nothing left to do, twice in a row: the
    survivors took over the claims of the dead, reconciled the unknown, sent the rest, and applied any
    reply a worker spooled (acknowledged while the store refused it)."""
    deadline = time.monotonic() + within
    quiet = 0
    while quiet < 2:
        if time.monotonic() > deadline:
            return  # what is still unfinished is reported as a violation
        await asyncio.sleep(0.5)
        idle = (
            people.pending == 0
            and not _spooled(spool)
            and not await _queued(services)
            and not await _unfinished(services)
        )
        quiet = quiet + 1 if idle else 0


def _spooled(spool: Path) -> int:
    """Replies acknowledged from the spool and not applied yet (outreach.inbound.spool: a file each)."""
    return len(list(spool.glob("*.json")))


async def _queued(services: Services) -> int:
    """Replies stored in the inbound queue (outreach.inbound.queue) and not handled yet."""
    async with services.sessions() as session:
        return await inbound_queue.waiting(session)


async def _unfinished(services: Services) -> dict[str, int]:
    """Outbox rows with something left to do, by status, error class, the start of the error's detail
    and whether they are due (what kept them, for the round's report)."""
    statement = select(
        col(OutboxMessage.status),
        col(OutboxMessage.unknown_outcome),
        col(OutboxMessage.error_class),
        col(OutboxMessage.error_detail),
        col(OutboxMessage.next_attempt_at),
    )
    now = datetime.now(UTC)
    async with services.sessions() as session:
        rows = (await session.execute(statement)).all()
    return dict(
        Counter(
            f"{status}/{error_class}/{(detail or '')[:40]}/{'due' if due <= now else 'later'}"
            for status, outcome, error_class, detail, due in rows
            if status in UNFINISHED or (status == "unknown" and outcome != "given_up")
        )
    )


async def _report(
    services: Services,
    database_url: str,
    pool: Workers,
    people: Residents,
    chaos: Chaos,
    residents: int,
) -> RoundReport:
    async with services.sessions() as session:
        phone_of = {
            contact.resident_id: address_of(session, contact)
            for contact in (await session.execute(select(ContactAddress))).scalars()
        }
        events = Counter((await session.execute(select(col(InboundEvent.provider_id)))).scalars())
        answers = Counter(
            (phone_of[resident], question)
            for resident, question in (
                await session.execute(select(col(Response.resident_id), col(Response.question_id)))
            ).all()
        )
        logs = pool.logs()
        resent_ids = [int(number) for number in re.findall(r"outbox (\d+): outcome unknown; resent under", logs)]
        resent_to = Counter(
            phone_of[resident]
            for resident in (
                await session.execute(
                    select(col(OutboxMessage.resident_id)).where(col(OutboxMessage.id).in_(resent_ids))
                )
            ).scalars()
        )
        unknown = await UnknownSendRepository(session).count_unknown_outcomes()
    unfinished = await _unfinished(services)
    acknowledged = [reply for reply in people.replies.values() if reply.acknowledged]
    everyone = phones(residents)
    duplicates = {phone: sum(count - 1 for count in Counter(people.received[phone]).values()) for phone in everyone}
    report = RoundReport(
        database="SQLite" if database_url.startswith("sqlite") else "PostgreSQL",
        seed=chaos.seed,
        kills=pool.kills,
        fired=pool.fired(),
        replies=len(people.replies),
        acknowledged=len(acknowledged),
        stored=sum(reply.sid in events for reply in acknowledged),
        duplicate_deliveries=people.duplicates_delivered,
        duplicate_sends=sum(duplicates.values()),
        resent=len(resent_ids),
        unknown=unknown,
        without_first=sum(people.asked(phone, "uses_tram") == 0 for phone in everyone),
    )
    violations = report.violations
    if report.stored < report.acknowledged:
        violations.append(f"{report.acknowledged - report.stored} acknowledged replies missing")
    if doubled := sum(count - 1 for count in events.values()):
        violations.append(f"{doubled} replies stored twice")
    lost = [(reply.phone, reply.question) for reply in acknowledged if (reply.phone, reply.question) not in answers]
    if lost:
        violations.append(f"{len(lost)} acknowledged answers not counted")
    if unasked := [pair for pair in answers if pair not in people.replies]:
        violations.append(f"{len(unasked)} answers counted for a question the resident did not answer")
    if report.without_first:
        violations.append(f"{report.without_first} residents without the first question")
    if over := {phone: extra for phone, extra in duplicates.items() if extra > resent_to[phone]}:
        violations.append(f"{sum(over.values())} duplicate sends not resent by policy")
    if unfinished:
        violations.append(f"outbox unfinished at the end: {unfinished}")
    return report
