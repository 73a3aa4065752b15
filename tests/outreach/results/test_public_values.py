"""What of an answer may leave the service: free text with its phone numbers, e-mail addresses and
PESEL numbers masked; answer times cut to the hour or the day, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from flows.loader import load_campaign
from outreach.results.public_values import PublicValues, public_time
from outreach.settings import RowTimePrecision, Settings

WARSAW_SUMMER = timezone(timedelta(hours=2))
CAMPAIGN = """
name: Słowa
languages: [pl]
channels: [sms]
questions:
  - {id: idea, type: text, text: {pl: "Co zmienić?"}}
  - {id: stop, type: choice, text: {pl: "Który przystanek?"}, options: [{key: "601234567", text: {pl: "Długa"}}]}
"""


def test_free_text_leaves_with_phones_emails_and_pesels_masked_and_other_numbers_kept() -> None:
    public = PublicValues(load_campaign(CAMPAIGN))
    written = "Dzwońcie 601 234 567, ola.nowak@example.org, PESEL 44051401458; licznik 12345678901, dom nr 15"
    assert public("idea", written) == "Dzwońcie [phone], [email], PESEL [PESEL]; licznik 12345678901, dom nr 15"
    assert public("idea", "więcej ławek") == "więcej ławek"
    assert public("stop", "601234567") == "601234567"  # an option's key is no resident's words


@pytest.mark.parametrize(
    ("moment", "precision", "published"),
    [
        (datetime(2027, 3, 2, 10, 14, 3, 123456, tzinfo=UTC), "hour", datetime(2027, 3, 2, 10, tzinfo=UTC)),
        (datetime(2027, 3, 2, 10, 59, 59, 999999, tzinfo=UTC), "hour", datetime(2027, 3, 2, 10, tzinfo=UTC)),
        (datetime(2027, 3, 2, 23, 59, 59, tzinfo=UTC), "day", datetime(2027, 3, 2, tzinfo=UTC)),
        # A time in another zone is published in UTC: 01:30 in Warsaw is 23:30 the day before.
        (datetime(2027, 6, 2, 1, 30, tzinfo=WARSAW_SUMMER), "day", datetime(2027, 6, 1, tzinfo=UTC)),
        (datetime(2027, 6, 2, 1, 30, tzinfo=WARSAW_SUMMER), "hour", datetime(2027, 6, 1, 23, tzinfo=UTC)),
    ],
)
def test_answer_times_leave_cut_to_the_hour_or_the_day(
    moment: datetime, precision: RowTimePrecision, published: datetime
) -> None:
    assert public_time(moment, precision) == published
    assert public_time(moment, precision).utcoffset() == timedelta(0)


def test_the_precision_is_a_setting_with_nothing_finer_than_the_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).row_time_precision == "hour"
    monkeypatch.setenv("OUTREACH_ROW_TIME_PRECISION", "day")
    assert Settings(_env_file=None).row_time_precision == "day"
    for finer in ("minute", "second", "exact"):
        monkeypatch.setenv("OUTREACH_ROW_TIME_PRECISION", finer)
        with pytest.raises(ValueError, match="row_time_precision"):
            Settings(_env_file=None)
