"""Answer matching as a table: (question, conversation language, reply) -> key or None."""

from __future__ import annotations

import pytest

from flows.matching import match_answer
from flows.model import Option, Question

YESNO = Question(id="visits_park", type="yesno", text={"pl": "Czy?", "en": "Did you?", "uk": "Чи?"})

VISITS = Question(
    id="visits",
    type="choice",
    text={"pl": "Jak często?", "en": "How often?", "uk": "Як часто?"},
    options=[
        Option(
            key="weekly", text={"pl": "co tydzień", "en": "every week", "uk": "щотижня"}, synonyms=["tydzien"]
        ),
        Option(key="monthly", text={"pl": "co miesiąc", "en": "every month", "uk": "щомісяця"}),
        Option(key="never", text={"pl": "wcale", "en": "never", "uk": "ніколи"}),
    ],
)

LIGHTS = Question(
    id="priority",
    type="choice",
    text={"pl": "Co?", "en": "What?", "uk": "Що?"},
    options=[
        Option(key="lighting", text={"pl": "oświetlenie", "en": "lighting", "uk": "освітлення"}),
        Option(
            key="better_lighting", text={"pl": "lepsze oświetlenie", "en": "better lighting", "uk": "краще"}
        ),
    ],
)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        # yes, in every form and language
        ("Tak", "yes"),
        (" TAK ", "yes"),
        ("tak!", "yes"),
        ("t", "yes"),
        ("T.", "yes"),
        ("jasne", "yes"),
        ("Oczywiście", "yes"),
        ("oczywiscie", "yes"),
        ("yes", "yes"),
        ("Y", "yes"),
        ("yeah", "yes"),
        ("Sure!", "yes"),
        ("Так", "yes"),
        ("ага", "yes"),
        ("1", "yes"),
        ("👍", "yes"),
        ("👍\U0001f3fd", "yes"),  # with a skin tone
        ("👍\ufe0f", "yes"),  # with the emoji variation selector
        ("Tak, codziennie", "yes"),
        ("yes please", "yes"),
        # no
        ("nie", "no"),
        ("Nie.", "no"),
        ("n", "no"),
        ("No", "no"),
        ("nope", "no"),
        ("Ні", "no"),
        ("нет", "no"),
        ("2", "no"),
        ("👎", "no"),
        ("👎\U0001f3ff\ufe0f", "no"),
        ("nie, nie mam czasu", "no"),
        # must not match
        ("nie wiem", None),
        ("Nie wiem.", None),
        ("no idea", None),
        ("не знаю", None),
        ("maybe", None),
        ("", None),
        ("   ", None),
        ("3", None),
        ("tak/nie", None),
        ("yes no", None),
        ("👍👎", None),
        ("y not", None),
        ("tomorrow", None),
    ],
)
def test_yesno(reply: str, expected: str | None) -> None:
    assert match_answer(YESNO, "pl", reply) == expected


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("1", "weekly"),
        ("2)", "monthly"),
        ("3.", "never"),
        ("b", "monthly"),
        ("B)", "monthly"),
        ("c", "never"),
        ("weekly", "weekly"),
        ("co tydzień", "weekly"),
        ("CO TYDZIEN", "weekly"),
        ("every month", "monthly"),
        ("щомісяця", "monthly"),
        ("Ніколи!", "never"),
        ("tydzien", "weekly"),
        ("chyba co miesiąc", "monthly"),
        ("2 co miesiąc", "monthly"),
        # must not match
        ("4", None),
        ("0", None),
        ("d", None),
        ("co tydzień albo co miesiąc", None),
        ("1 co miesiąc", None),
        ("nie wiem", None),
        ("tak", None),
        ("", None),
        ("sometimes", None),
    ],
)
def test_choice(reply: str, expected: str | None) -> None:
    assert match_answer(VISITS, "pl", reply) == expected


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("oświetlenie", "lighting"),
        ("better lighting", "better_lighting"),
        ("chcę lepsze oświetlenie", "better_lighting"),  # the longer phrase wins over the one inside it
        ("better_lighting", "better_lighting"),
    ],
)
def test_choice_phrase_inside_another(reply: str, expected: str | None) -> None:
    assert match_answer(LIGHTS, "en", reply) == expected
