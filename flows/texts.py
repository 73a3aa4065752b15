"""The engine's own wording (not the official's), per language: yes/no labels, the hint that several
options may be chosen, the re-ask hints that say what kind of reply fits, the reminder line, and the
privacy line of a campaign's first message."""

from __future__ import annotations

from dataclasses import dataclass

from flows.campaign import Campaign
from flows.model import Question

YESNO_LABELS: dict[str, dict[str, str]] = {
    "pl": {"yes": "tak", "no": "nie"},
    "en": {"yes": "yes", "no": "no"},
    "uk": {"yes": "так", "no": "ні"},
}

_SORRY = {
    "pl": "Przepraszamy, nie rozumiemy odpowiedzi.",
    "en": "Sorry, I didn't get that.",
    "uk": "Вибачте, ми не зрозуміли відповідь.",
}

_REMINDER = {
    "pl": "Przypominamy o pytaniu:",
    "en": "A reminder of our question:",
    "uk": "Нагадуємо про запитання:",
}

# The "done" button under a multi question answered by taps.
_SUBMIT = {"pl": "Gotowe", "en": "Done", "uk": "Готово"}

_MULTI = {
    "pl": {"any": "Możesz wybrać kilka, np. 1,3.", "up_to": "Możesz wybrać do {n}, np. 1,3."},
    "en": {"any": "You can choose several, e.g. 1,3.", "up_to": "You can choose up to {n}, e.g. 1,3."},
    "uk": {"any": "Можна вибрати кілька, напр. 1,3.", "up_to": "Можна вибрати до {n}, напр. 1,3."},
}

# What fits, per type; {…} are filled from the question.
_FITS = {
    "pl": {
        "yesno": "Odpowiedz „tak” lub „nie”.",
        "choice": "Odpowiedz numerem jednej z opcji.",
        "multi": "Odpowiedz numerami opcji, np. 1,3.",
        "multi_up_to": "Odpowiedz numerami opcji (najwyżej {n}), np. 1,3.",
        "scale": "Odpowiedz liczbą od {min} do {max}.",
        "number": "Odpowiedz liczbą.",
        "whole": "Odpowiedz liczbą całkowitą.",
        "range": " (od {min} do {max})",
        "at_least": " (co najmniej {min})",
        "at_most": " (najwyżej {max})",
        "text": "Odpowiedz kilkoma słowami.",
    },
    "en": {
        "yesno": "Please answer yes or no.",
        "choice": "Please answer with the number of an option.",
        "multi": "Please answer with the numbers of the options, e.g. 1,3.",
        "multi_up_to": "Please answer with the numbers of the options (at most {n}), e.g. 1,3.",
        "scale": "Please answer with a number from {min} to {max}.",
        "number": "Please answer with a number.",
        "whole": "Please answer with a whole number.",
        "range": " (from {min} to {max})",
        "at_least": " (at least {min})",
        "at_most": " (at most {max})",
        "text": "Please answer in a few words.",
    },
    "uk": {
        "yesno": "Будь ласка, напишіть «так» або «ні».",
        "choice": "Будь ласка, надішліть номер одного з варіантів.",
        "multi": "Будь ласка, надішліть номери варіантів, напр. 1,3.",
        "multi_up_to": "Будь ласка, надішліть номери варіантів (не більше {n}), напр. 1,3.",
        "scale": "Будь ласка, надішліть число від {min} до {max}.",
        "number": "Будь ласка, надішліть число.",
        "whole": "Будь ласка, надішліть ціле число.",
        "range": " (від {min} до {max})",
        "at_least": " (не менше {min})",
        "at_most": " (не більше {max})",
        "text": "Будь ласка, дайте відповідь кількома словами.",
    },
}


# Who processes the answers and where to read more: short, and GSM-7 in Polish and English (no
# diacritics here; the controller's name is the setting's), so it costs an SMS few characters.
_PRIVACY = {
    "pl": "Administrator danych: {controller}, info: {url}",
    "en": "Data controller: {controller}, info: {url}",
    "uk": "Адміністратор даних: {controller}, інфо: {url}",
}


@dataclass(frozen=True)
class PrivacyNotice:
    """The controller of residents' data and the address of the privacy notice page (without its
    language: `/privacy/pl` is `url` + "/pl")."""

    controller: str
    url: str

    def line(self, language: str) -> str:
        return _PRIVACY[language].format(controller=self.controller, url=f"{self.url}/{language}")

    def on(self, flow: Campaign) -> Campaign:
        """The campaign with this notice on its first message, unless its file wrote its own."""
        if flow.privacy_notice is not None:
            return flow
        return flow.model_copy(
            update={"privacy_notice": {language: self.line(language) for language in flow.languages}}
        )


def multi_hint(question: Question, language: str) -> str:
    """Added under a multi question: several options may be chosen."""
    texts = _MULTI[language]
    if question.max_choices is None or question.max_choices >= len(question.options):
        return texts["any"]
    return texts["up_to"].format(n=question.max_choices)


def submit_label(language: str) -> str:
    """The label of the button that sends the options picked on a multi question."""
    return _SUBMIT[language]


def reminder_prefix(language: str) -> str:
    """Put above a question asked again because no reply came."""
    return _REMINDER[language]


def reask_hint(question: Question, language: str) -> str:
    """ "Sorry, I didn't get that." and what kind of reply fits this question."""
    return f"{_SORRY[language]} {_fits(question, language)}"


def _fits(question: Question, language: str) -> str:
    fits = _FITS[language]
    match question.type:
        case "multi" if question.max_choices is not None and question.max_choices < len(question.options):
            return fits["multi_up_to"].format(n=question.max_choices)
        case "scale":
            return fits["scale"].format(min=_show(question.min, language), max=_show(question.max, language))
        case "number":
            return _number_fits(question, language)
        case kind:
            return fits[kind]


def _number_fits(question: Question, language: str) -> str:
    fits = _FITS[language]
    sentence = fits["whole" if question.integer else "number"]
    low, high = question.min, question.max
    if low is not None and high is not None:
        bounds = fits["range"].format(min=_show(low, language), max=_show(high, language))
    elif low is not None:
        bounds = fits["at_least"].format(min=_show(low, language))
    elif high is not None:
        bounds = fits["at_most"].format(max=_show(high, language))
    else:
        return sentence
    return f"{sentence[:-1]}{bounds}."  # inside the sentence, before its full stop


def _show(value: float | None, language: str) -> str:
    """5.0 -> "5", 1.5 -> "1.5" (pl, uk: "1,5"): as a resident would write the bound."""
    if value is None:
        return ""
    text = str(int(value)) if float(value).is_integer() else str(value)
    return text if language == "en" else text.replace(".", ",")
