"""Age bands: the setting's labels parsed and checked, and a written band or an age matched to one."""

from __future__ import annotations

import re

import pytest

from flows.age_bands import DEFAULT_AGE_BANDS, AgeBand, age_band_of, parse_age_bands, parse_band

WITH_16 = ("16-17", *DEFAULT_AGE_BANDS)


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("18-29", AgeBand(18, 29)),
        (" 30 - 44 ", AgeBand(30, 44)),
        ("30–44", AgeBand(30, 44)),  # an en dash, as a spreadsheet writes it
        ("65+", AgeBand(65, None)),
        ("65 +", AgeBand(65, None)),
        ("44-30", None),
        ("adults", None),
        ("18-", None),
        ("", None),
    ],
)
def test_a_band_is_read_as_written_or_not_at_all(text: str, band: AgeBand | None) -> None:
    assert parse_band(text) == band


def test_the_default_bands_and_their_labels() -> None:
    bands = parse_age_bands(DEFAULT_AGE_BANDS)
    assert [band.label for band in bands] == ["18-29", "30-44", "45-64", "65+"]
    assert bands[0].holds(18) and bands[0].holds(29) and not bands[0].holds(30)
    assert bands[-1].holds(101) and not bands[-1].holds(64)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (["18-29", "31-44"], "'31-44' after '18-29' must start at 30"),
        (["18-29", "25-44"], "'25-44' after '18-29' must start at 30"),
        (["18+", "30-44"], "only the last age band may be open-ended: '18+' is followed by '30-44'"),
        (["18-29", "old"], "'old' is not an age band"),
        ([], "no age bands"),
    ],
)
def test_bands_must_follow_each_other_and_only_the_last_is_open(labels: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_age_bands(labels)


@pytest.mark.parametrize(
    ("value", "labels", "band"),
    [
        ("30-44", DEFAULT_AGE_BANDS, "30-44"),
        ("30 – 44", DEFAULT_AGE_BANDS, "30-44"),
        ("37", DEFAULT_AGE_BANDS, "30-44"),  # an age
        ("65", DEFAULT_AGE_BANDS, "65+"),
        ("17", DEFAULT_AGE_BANDS, None),  # too young for these bands
        ("17", WITH_16, "16-17"),
        ("16-17", DEFAULT_AGE_BANDS, None),  # a band the setting does not have
        ("45-59", DEFAULT_AGE_BANDS, None),
        ("sixty", DEFAULT_AGE_BANDS, None),
    ],
)
def test_a_value_names_a_band_of_the_setting_or_none(value: str, labels: tuple[str, ...], band: str | None) -> None:
    assert age_band_of(value, labels) == band
