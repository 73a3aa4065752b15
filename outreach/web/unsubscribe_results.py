"""What an unsubscribe click did, in the resident's words: the page behind the link says exactly that
(unsubscribed now, already unsubscribed, nothing changed and why, a link that is not ours), never
"unsubscribed" for a click that changed nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from flows.languages import DEFAULT_LANGUAGE, LANGUAGES
from outreach.inbound.pipeline import Outcome


class UnsubscribeResult(StrEnum):
    UNSUBSCRIBED = "unsubscribed"  # this click stopped the questions
    ALREADY = "already"  # they were stopped before (an earlier click, a STOP): nothing to do
    SUBSCRIBED_SINCE = "subscribed_since"  # this link was used, then the resident wrote START: it stays
    NOT_CHANGED = "not_changed"  # anything else the pipeline said (e.g. the store refused the event)
    NOT_OURS = "not_ours"  # no message of ours carries this link


def unsubscribe_result(outcome: Outcome, *, opted_out_now: bool) -> UnsubscribeResult:
    """The result of a click from the pipeline's outcome and, for a link already used (the pipeline
    keeps one event per link), whether the address is opted out now."""
    if outcome is Outcome.STOPPED:
        return UnsubscribeResult.UNSUBSCRIBED
    if outcome is Outcome.OPTED_OUT:
        return UnsubscribeResult.ALREADY
    if outcome is Outcome.DUPLICATE:
        return UnsubscribeResult.ALREADY if opted_out_now else UnsubscribeResult.SUBSCRIBED_SINCE
    return UnsubscribeResult.NOT_CHANGED


_HOW_TO_STOP = {
    "pl": "Aby nie dostawać pytań, odpowiedz STOP na dowolny nasz e-mail.",
    "en": "To stop our questions, reply STOP to any of our emails.",
    "uk": "Щоб більше не отримувати запитань, відповідайте STOP на будь-який наш лист.",
}

# (heading, text) per result and language.
_PAGES: dict[UnsubscribeResult, dict[str, tuple[str, str]]] = {
    UnsubscribeResult.UNSUBSCRIBED: {
        "pl": ("Wypisano Cię", "Nie będziemy już wysyłać Ci pytań, ani na ten adres, ani na żaden inny."),
        "en": ("You are unsubscribed", "We will send you no more questions, to this address or any other."),
        "uk": ("Вас відписано", "Ми більше не надсилатимемо вам запитань ні на цю адресу, ні на жодну іншу."),
    },
    UnsubscribeResult.ALREADY: {
        "pl": ("Ten adres był już wypisany", "Nic się nie zmieniło: nie wysyłamy pytań na ten adres."),
        "en": ("You were already unsubscribed", "Nothing has changed: we send no questions to this address."),
        "uk": ("Цю адресу вже було відписано", "Нічого не змінилося: ми не надсилаємо запитань на цю адресу."),
    },
    UnsubscribeResult.SUBSCRIBED_SINCE: {
        "pl": (
            "Nic się nie zmieniło",
            "Ten link został już użyty, a potem z tego adresu przyszło START, więc nadal wysyłamy na niego"
            " pytania. " + _HOW_TO_STOP["pl"],
        ),
        "en": (
            "Nothing has changed",
            "This link was used before, and since then you wrote START, so this address still gets our"
            " questions. " + _HOW_TO_STOP["en"],
        ),
        "uk": (
            "Нічого не змінилося",
            "Це посилання вже використано, а після того з цієї адреси надійшло START, тож ми й далі"
            " надсилаємо на неї запитання. " + _HOW_TO_STOP["uk"],
        ),
    },
    UnsubscribeResult.NOT_CHANGED: {
        "pl": ("Nic się nie zmieniło", "Nie udało się wypisać tego adresu tym linkiem. " + _HOW_TO_STOP["pl"]),
        "en": ("Nothing has changed", "We could not unsubscribe this address with this link. " + _HOW_TO_STOP["en"]),
        "uk": ("Нічого не змінилося", "Не вдалося відписати цю адресу цим посиланням. " + _HOW_TO_STOP["uk"]),
    },
    UnsubscribeResult.NOT_OURS: {
        "pl": (
            "Ten link jest nieważny",
            "Nie znamy tego linku: może jest niepełny albo nie pochodzi z naszego e-maila. Nic się nie zmieniło. "
            + _HOW_TO_STOP["pl"],
        ),
        "en": (
            "This link is not valid",
            "We do not know this link: it may be incomplete, or not from one of our emails. Nothing has changed. "
            + _HOW_TO_STOP["en"],
        ),
        "uk": (
            "Це посилання недійсне",
            "Ми не знаємо цього посилання: можливо, воно неповне або не з нашого листа. Нічого не змінилося. "
            + _HOW_TO_STOP["uk"],
        ),
    },
}


def result_page_texts(result: UnsubscribeResult, language: str) -> tuple[str, str]:
    """The page's heading and text for `result`, in `language` (else the default language)."""
    texts = _PAGES[result]
    return texts.get(language, texts[DEFAULT_LANGUAGE])


def browser_language(
    accept_language: str | None, languages: Sequence[str] = LANGUAGES, default: str = DEFAULT_LANGUAGE
) -> str:
    """For a link we cannot tie to a resident (or an official's page): the first language of the
    browser's Accept-Language among `languages`, else `default`."""
    for part in (accept_language or "").split(","):
        primary = part.split(";")[0].strip().split("-")[0].lower()
        if primary in languages:
            return primary
    return default
