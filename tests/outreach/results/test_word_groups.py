"""Free-text answers grouped by shared words: Polish inflections (and spelling without diacritics) fold
into one group, stop words of pl/en/uk group nothing, every answer is counted once."""

from __future__ import annotations

from outreach.results.word_groups import TextAnswer, content_words, group_answers, stem


def pl(*texts: str) -> list[TextAnswer]:
    return [TextAnswer(text, "pl") for text in texts]


def test_polish_inflections_of_a_word_share_one_stem() -> None:
    assert {stem(word, "pl") for word in ("ławka", "ławki", "ławkę", "ławkach", "ławkami", "lawki")} == {"lawk"}
    assert {stem(word, "pl") for word in ("oświetlenie", "oświetlenia", "oświetleniu", "oświetleniem")} == {"oswietlen"}
    assert stem("kosze", "pl") == "kosz"  # the stemmer cut it to "ko": the word's prefix instead
    assert stem("benches", "en") == stem("bench", "en")
    assert stem("лавки", "uk") == stem("лавка", "uk")


def test_stop_words_of_each_language_are_left_out() -> None:
    assert set(content_words("Więcej ławek i mniej psów przy tym stawie", "pl").values()) == {
        "ławek",
        "mniej",
        "psów",
        "stawie",
    }
    assert set(content_words("there should be more benches", "en").values()) == {"benches"}
    assert set(content_words("треба більше лавок у парку", "uk").values()) == {"лавок", "парку"}
    assert content_words("tak, to jest to", "pl") == {}


def test_answers_group_by_their_most_shared_word_with_counts_and_three_examples() -> None:
    answers = pl(
        "Ławki są połamane",
        "więcej ławek",  # the genitive plural the stemmer leaves alone: it stays apart
        "brak ławki przy placu zabaw",
        "nowe ławkach?",
        "lawki!!!",
        "oświetlenie alejek",
        "lepsze oświetlenia wieczorem",
        "za mało oświetleniem",
        "psy bez smyczy",
        "ok",
    )
    grouping = group_answers(answers)
    assert [(group.word, group.count) for group in grouping.groups] == [("ławki", 4), ("oświetlenie", 3)]
    benches = grouping.groups[0]
    assert benches.forms == ("ławkach", "lawki")  # after the most common form, first met first
    assert benches.examples == ("Ławki są połamane", "brak ławki przy placu zabaw", "nowe ławkach?")
    assert grouping.ungrouped == 3
    assert grouping.ungrouped_examples == ("więcej ławek", "psy bez smyczy", "ok")
    assert grouping.answered == sum(group.count for group in grouping.groups) + grouping.ungrouped == len(answers)


def test_an_answer_counts_in_one_group_only() -> None:
    grouping = group_answers(pl("ławki i oświetlenie", "ławki", "oświetlenie", "oświetlenie latarni"))
    # "oświetlenie" is shared by three, so it takes the first answer; "ławki" is left with one.
    assert [(group.word, group.count) for group in grouping.groups] == [("oświetlenie", 3)]
    assert grouping.ungrouped == 1


def test_masked_personal_data_is_no_shared_word() -> None:
    grouping = group_answers(pl("zadzwoń [phone]", "pisz na [email]", "[PESEL] [phone]"))
    assert grouping.groups == () and grouping.ungrouped == 3


def test_languages_mix_in_one_question() -> None:
    answers = [
        TextAnswer("more benches please", "en"),
        TextAnswer("a bench by the pond", "en"),
        TextAnswer("лавки біля ставка", "uk"),
        TextAnswer("нові лавки", "uk"),
    ]
    assert [(group.word, group.count) for group in group_answers(answers).groups] == [("benches", 2), ("лавки", 2)]
