"""Residents who join by themselves: `/start SOURCE` from a QR code on a poster or a bus stop.

A small conversation of its own, kept pure here (the pipeline stores what it decides): explain who
asks and why, ask the age band first (the setting's, OUTREACH_AGE_BANDS, youngest first after "under
16"; a typed age becomes its band; "16 or older" without a band will do), then consent, language and
district, with buttons. Nobody under 16 (flows.age_bands.MINIMUM_AGE) is enrolled: that answer ends
the conversation with a polite word, is never asked for consent, and leaves the chat opted out and
without consent. Until consent is given the address is never written to by a campaign; a "no" leaves
nothing but the opt-out.

A chat enrols once: age band and district are declared once, and a /start after that only
opts the chat back in. Before the end, /start begins again from the top at most MAX_STARTS times in all. The
resident is recorded as recruited via self-enrolment from the /start source (outreach.campaigns.
recruitment), so results can tell self-declared respondents from imported ones.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from flows.age_bands import AGE_BAND, age_band_of, under_minimum_age
from flows.languages import LANGUAGE_NAMES, LANGUAGES
from flows.matching import match_reply
from flows.model import Option, Question
from outreach.inbound.service_texts import pick

ENROLMENT_CAMPAIGN = 0  # campaign id 0 in button data: the enrolment conversation, not a campaign
MAX_STARTS = 3  # a chat begins its enrolment at most this often (a first /start and two over again)
CONSENT, LANGUAGE, DISTRICT = "consent", "language", "district"
NOT_SAID = "skip"  # the age band's "16 or older, prefer not to say"
UNDER_AGE = "under16"  # the age band's "under 16"
FIRST_STEP = AGE_BAND  # the age comes first: nobody under 16 is asked for consent

_INTRO = {
    "pl": "Dzień dobry! Tu {organisation}. Od czasu do czasu zadajemy mieszkańcom jedno-dwa krótkie pytania"
    " o sprawy dzielnicy, żeby decyzje nie zapadały tylko na podstawie głosu kilku najaktywniejszych osób."
    " Odpowiedź zajmuje kilka sekund; STOP kończy w każdej chwili.",
    "en": "Hello! This is {organisation}. Now and then we ask residents one or two short questions about their"
    " district, so that decisions do not rest only on the few who always speak up. Answering takes seconds;"
    " STOP ends it at any time.",
    "uk": "Добрий день! Це {organisation}. Час від часу ми ставимо мешканцям одне-два короткі запитання про"
    " їхній район, щоб рішення не залежали лише від кількох найактивніших. Відповідь займає кілька секунд;"
    " STOP припиняє будь-коли.",
}
_ASK = {
    CONSENT: {
        "pl": "Czy możemy pisać do Ciebie tutaj z takimi pytaniami?",
        "en": "May we send you such questions here?",
        "uk": "Чи можемо ми надсилати вам такі запитання тут?",
    },
    LANGUAGE: {"pl": "W jakim języku pisać?", "en": "Which language should we write in?", "uk": "Якою мовою писати?"},
    DISTRICT: {
        "pl": "W której dzielnicy mieszkasz? Wybierz lub wpisz nazwę.",
        "en": "Which district do you live in? Choose or type its name.",
        "uk": "У якому районі ви живете? Оберіть або напишіть назву.",
    },
    AGE_BAND: {
        "pl": "Ile masz lat? Wybierz przedział albo wpisz swój wiek.",
        "en": "How old are you? Choose a range or type your age.",
        "uk": "Скільки вам років? Оберіть проміжок або напишіть свій вік.",
    },
}
_NOT_SAID = {"pl": "wolę nie mówić", "en": "prefer not to say", "uk": "волію не казати"}  # the button: "16+, …"
_UNDER_AGE = {"pl": "poniżej 16", "en": "under 16", "uk": "до 16"}
_TOO_YOUNG = {
    "pl": "Dziękujemy! Pytamy tylko osoby, które mają co najmniej 16 lat, więc nie będziemy pisać."
    " Zapraszamy, gdy skończysz 16 lat.",
    "en": "Thank you! We only ask people aged 16 or over, so we will not write to you."
    " You are welcome back once you are 16.",
    "uk": "Дякуємо! Ми запитуємо лише осіб віком від 16 років, тож не писатимемо вам."
    " Запрошуємо, коли вам виповниться 16.",
}
_AGAIN = {
    "pl": "Nie rozpoznaliśmy odpowiedzi — wybierz przycisk albo wpisz numer.",
    "en": "We did not recognise that — tap a button or type its number.",
    "uk": "Ми не розпізнали відповідь — натисніть кнопку або напишіть номер.",
}
_DECLINED = {
    "pl": "Rozumiemy — nie będziemy pisać. Jeśli zmienisz zdanie, wyślij /start.",
    "en": "Understood — we will not write. If you change your mind, send /start.",
    "uk": "Зрозуміло — ми не писатимемо. Якщо передумаєте, надішліть /start.",
}
_WELCOME = {
    "pl": "Dziękujemy, jesteś zapisany/-a. Pytania przyjdą tutaj. /help wyjaśnia, /stop kończy.",
    "en": "Thank you, you are in. Questions will come here. /help explains, /stop ends it.",
    "uk": "Дякуємо, вас додано. Запитання надходитимуть сюди. /help пояснює, /stop припиняє.",
}


@dataclass(frozen=True)
class District:
    name: str
    population: int


def load_districts(path: Path | None = None) -> list[District]:
    """The city's districts (shared/data's public Gdańsk list, packaged), or a city's own file."""
    text = (
        path.read_text(encoding="utf-8")
        if path
        else (resources.files("outreach") / "data" / "gdansk_districts.csv").read_text(encoding="utf-8")
    )
    return [District(row["district"], int(row["population"])) for row in csv.DictReader(text.splitlines())]


@dataclass(frozen=True)
class Choices:
    """What the enrolment offers: the city's districts and its age bands (OUTREACH_AGE_BANDS)."""

    districts: Sequence[District]
    age_bands: Sequence[str]


@dataclass(frozen=True)
class Prompt:
    """A message of the enrolment conversation: text and buttons (key, label)."""

    step: str | None  # the step it asks for; None for a closing message
    text: str
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class EnrolmentStep:
    next_step: str | None  # None: enrolment over (done or declined)
    prompts: tuple[Prompt, ...]
    consented: bool = False
    declined: bool = False
    under_age: bool = False  # declined because the resident is under 16
    updates: dict[str, str] = field(default_factory=dict)  # "language" or resident attributes


def prompt(step: str, language: str, choices: Choices) -> Prompt:
    if step == CONSENT:
        yes_no = {"pl": ("tak", "nie"), "en": ("yes", "no"), "uk": ("так", "ні")}[language]
        return Prompt(step, pick(_ASK[CONSENT], language), (("yes", yes_no[0]), ("no", yes_no[1])))
    if step == LANGUAGE:
        return Prompt(step, pick(_ASK[LANGUAGE], language), tuple((code, LANGUAGE_NAMES[code]) for code in LANGUAGES))
    if step == AGE_BAND:
        bands = tuple((band, band) for band in choices.age_bands if not under_minimum_age(band))
        under, not_said = (UNDER_AGE, pick(_UNDER_AGE, language)), (NOT_SAID, f"16+, {pick(_NOT_SAID, language)}")
        return Prompt(step, pick(_ASK[AGE_BAND], language), (under, *bands, not_said))
    districts = tuple((str(number), district.name) for number, district in enumerate(choices.districts, start=1))
    return Prompt(step, pick(_ASK[DISTRICT], language), districts)


def begin(language: str, organisation: str, choices: Choices) -> EnrolmentStep:
    intro = Prompt(None, pick(_INTRO, language).format(organisation=organisation))
    return EnrolmentStep(FIRST_STEP, (intro, prompt(FIRST_STEP, language, choices)))


def consent_notice(language: str, organisation: str) -> str:
    """What a resident read before their yes (the introduction and the question), for the consent ledger."""
    return f"{pick(_INTRO, language).format(organisation=organisation)}\n{pick(_ASK[CONSENT], language)}"


def start_again(current: str, starts: int, language: str, organisation: str, choices: Choices) -> EnrolmentStep:
    """/start while enrolling (`starts` so far): from the top while the chat has starts left, else the
    current question again. A chat cannot loop the bot into sending its introduction without end."""
    if starts < MAX_STARTS:
        return begin(language, organisation, choices)
    return EnrolmentStep(current, (prompt(current, language, choices),))


def _question(step: str, language: str, choices: Choices) -> Question:
    """The step as a flows question, so replies are matched as forgivingly as campaign answers."""
    asked = prompt(step, language, choices)
    if step == CONSENT:
        return Question(id=step, type="yesno", text={language: asked.text})
    options = [Option(key=key, text={language: label}) for key, label in asked.choices]
    if step == AGE_BAND:  # "prefer not to say" is enough, without the "16+, "
        options[-1] = Option(key=NOT_SAID, text={language: asked.choices[-1][1]}, synonyms=[pick(_NOT_SAID, language)])
    if step == LANGUAGE:  # a language may be named in any of them ("polski", "English", "uk")
        options = [Option(key=code, text={language: LANGUAGE_NAMES[code]}, synonyms=[code]) for code in LANGUAGES]
    return Question(id=step, type="choice", text={language: asked.text}, options=options)


def _typed_age(step: str, reply: str, choices: Choices) -> str | None:
    """What an age typed at the age step ("37") answers: its band, "under 16", or "16 or older" where
    no band holds it; a number the buttons have means the button."""
    typed = reply.strip()
    buttons = 2 + sum(not under_minimum_age(band) for band in choices.age_bands)  # with under 16 and not said
    if step != AGE_BAND or not typed.isdecimal() or int(typed) <= buttons:
        return None
    if under_minimum_age(typed):
        return UNDER_AGE
    return age_band_of(typed, choices.age_bands) or NOT_SAID


def advance(step: str, reply: str, language: str, choices: Choices) -> EnrolmentStep:
    """The resident answered `step` with `reply` (a button key or typed text)."""
    answer = match_reply(_question(step, language, choices), language, reply)
    value = _typed_age(step, reply, choices) or (None if answer is None else str(answer.value))
    if value is None:
        again = prompt(step, language, choices)
        return EnrolmentStep(step, (Prompt(step, f"{pick(_AGAIN, language)}\n{again.text}", again.choices),))
    if step == AGE_BAND:
        if value == UNDER_AGE:
            return EnrolmentStep(None, (Prompt(None, pick(_TOO_YOUNG, language)),), declined=True, under_age=True)
        said = {} if value == NOT_SAID else {AGE_BAND: value}
        return EnrolmentStep(CONSENT, (prompt(CONSENT, language, choices),), updates=said)
    if step == CONSENT:
        if value == "no":
            return EnrolmentStep(None, (Prompt(None, pick(_DECLINED, language)),), declined=True)
        return EnrolmentStep(LANGUAGE, (prompt(LANGUAGE, language, choices),), consented=True)
    if step == LANGUAGE:
        return EnrolmentStep(DISTRICT, (prompt(DISTRICT, value, choices),), updates={"language": value})
    district = choices.districts[int(value) - 1].name
    return EnrolmentStep(None, (Prompt(None, pick(_WELCOME, language)),), updates={"district": district})
