"""The engine's own wording (not the official's): yes/no labels and re-ask hints, per language."""

from __future__ import annotations

from typing import Literal

YESNO_LABELS: dict[str, dict[str, str]] = {
    "pl": {"yes": "tak", "no": "nie"},
    "en": {"yes": "yes", "no": "no"},
    "uk": {"yes": "так", "no": "ні"},
}

REASK_HINTS: dict[str, dict[Literal["yesno", "choice"], str]] = {
    "pl": {
        "yesno": "Przepraszamy, nie rozumiemy odpowiedzi. Odpowiedz „tak” lub „nie”.",
        "choice": "Przepraszamy, nie rozumiemy odpowiedzi. Odpowiedz numerem jednej z opcji.",
    },
    "en": {
        "yesno": "Sorry, I didn't get that. Please answer yes or no.",
        "choice": "Sorry, I didn't get that. Please answer with the number of an option.",
    },
    "uk": {
        "yesno": "Вибачте, ми не зрозуміли відповідь. Будь ласка, напишіть «так» або «ні».",
        "choice": "Вибачте, ми не зрозуміли відповідь. Будь ласка, надішліть номер одного з варіантів.",
    },
}
