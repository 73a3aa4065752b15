"""What the service itself says to residents (not campaign content), in pl, en and uk."""

from __future__ import annotations

from flows.languages import DEFAULT_LANGUAGE
from flows.texts import PrivacyNotice

_STOPPED = {
    "pl": "Nie napiszemy już do Ciebie. Jeśli zmienisz zdanie, odpisz START.",
    "en": "You will get no more messages from us. If you change your mind, reply START.",
    "uk": "Ми більше не писатимемо вам. Якщо передумаєте, надішліть START.",
}
_STARTED = {
    "pl": "Witamy z powrotem. Możemy znów zapytać Cię o zdanie. STOP kończy.",
    "en": "Welcome back. We may ask for your opinion again. Reply STOP to stop.",
    "uk": "Раді, що ви повернулися. Ми знову можемо запитати вашу думку. STOP припиняє.",
}
_HELP = {
    "pl": "{organisation} pyta mieszkańców o zdanie w krótkich konsultacjach, żeby usłyszeć nie tylko"
    " tych, którzy przychodzą na spotkania. Odpowiedz słowem lub numerem. STOP kończy, START wznawia.",
    "en": "{organisation} asks residents short consultation questions, to hear more than the few who"
    " come to meetings. Answer with a word or a number. STOP ends messages, START resumes them.",
    "uk": "{organisation} ставить мешканцям короткі питання консультацій, щоб почути не лише тих, хто"
    " приходить на зустрічі. Відповідайте словом або числом. STOP припиняє, START відновлює.",
}
_LANGUAGE_CHOICES = {
    "pl": "Wybierz język: napisz JĘZYK PL, LANG EN albo МОВА UK.",
    "en": "Choose a language: write LANG EN, JĘZYK PL or МОВА UK.",
    "uk": "Оберіть мову: напишіть МОВА UK, JĘZYK PL або LANG EN.",
}
_TAP_NOT_COUNTED = {
    "pl": "To pytanie jest już zamknięte — ta odpowiedź nie zostanie policzona.",
    "en": "This question is already closed, so this answer is not counted.",
    "uk": "Це запитання вже закрите, тож цю відповідь не враховано.",
}
_TOO_MANY_PICKED = {
    "pl": "Możesz wybrać najwyżej {n}. Odznacz jedną, by wybrać inną.",
    "en": "You can choose at most {n}. Untick one to choose another.",
    "uk": "Можна вибрати щонайбільше {n}. Зніміть одну позначку, щоб вибрати іншу.",
}
_NOTHING_PICKED = {
    "pl": "Najpierw zaznacz co najmniej jedną odpowiedź.",
    "en": "First tick at least one answer.",
    "uk": "Спочатку позначте хоча б одну відповідь.",
}
_CLOSED = {
    "pl": "Dziękujemy, ale ta konsultacja jest już zamknięta i nie liczymy nowych odpowiedzi.",
    "en": "Thank you, but this consultation has closed and new answers are no longer counted.",
    "uk": "Дякуємо, але ця консультація вже закрита, і нові відповіді не враховуються.",
}
_STOP_BY_LINK = {
    "pl": "Otrzymaliśmy z tego adresu prośbę STOP, ale bez znaku, że wysłała ją osoba, do której piszemy."
    " Jeśli to Ty i nie chcesz więcej pytań, kliknij „Wypisz się” na dole tej wiadomości."
    " Jeśli to nie Ty, zignoruj ją: nic się nie zmieniło.",
    "en": "We received a STOP request from this address, without a sign that it came from the person we"
    ' write to. If it was you and you want no more questions, click "Unsubscribe" at the bottom of this'
    " message. If it was not you, ignore this message: nothing has changed.",
    "uk": "Ми отримали з цієї адреси запит STOP, але без ознаки, що його надіслала особа, якій ми пишемо."
    " Якщо це ви і не хочете більше запитань, натисніть «Відпишіться» внизу цього листа."
    " Якщо це не ви, проігноруйте лист: нічого не змінилося.",
}
_LANGUAGE_SET = {
    "pl": "Będziemy pisać po polsku.",
    "en": "We will write in English.",
    "uk": "Ми писатимемо українською.",
}


def pick(texts: dict[str, str], language: str) -> str:
    """The text in `language`, else Polish (the default of the service's own words)."""
    return texts.get(language, texts[DEFAULT_LANGUAGE])


def stopped(language: str) -> str:
    return pick(_STOPPED, language)


def started(language: str) -> str:
    return pick(_STARTED, language)


def help_text(language: str, organisation: str, privacy: PrivacyNotice | None = None) -> str:
    """What the service is, how to answer and stop; and who processes the data, where to read more."""
    text = pick(_HELP, language).format(organisation=organisation)
    if privacy is None:
        return text
    return f"{text}\n{privacy.line(language if language in _HELP else DEFAULT_LANGUAGE)}"


def language_set(language: str) -> str:
    return pick(_LANGUAGE_SET, language)


def stop_by_link(language: str) -> str:
    """The reply to a STOP mail without a reply token: unsubscribing is one click on the mail's link."""
    return pick(_STOP_BY_LINK, language)


def closed(language: str) -> str:
    return pick(_CLOSED, language)


def language_choices(language: str) -> str:
    return pick(_LANGUAGE_CHOICES, language)


def tap_not_counted(language: str) -> str:
    return pick(_TAP_NOT_COUNTED, language)


def too_many_picked(language: str, limit: int) -> str:
    return pick(_TOO_MANY_PICKED, language).format(n=limit)


def nothing_picked(language: str) -> str:
    return pick(_NOTHING_PICKED, language)
