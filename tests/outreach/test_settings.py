"""Settings: every one documented in .env.example, and the example itself means the defaults."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from channels.email import EmailChannel
from outreach.bootstrap import build_provider_channels, check_message_ids_fit
from outreach.settings import Settings
from storage.tables import PROVIDER_ID_LENGTH

EXAMPLE = Path(__file__).parents[2] / ".env.example"


def test_every_setting_is_documented_in_env_example() -> None:
    documented = set(re.findall(r"^#?\s*(OUTREACH_[A-Z_]+)=", EXAMPLE.read_text(encoding="utf-8"), re.M))
    expected = {f"OUTREACH_{name.upper()}" for name in Settings.model_fields}
    assert documented == expected


def test_env_example_as_written_gives_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"OUTREACH_{name.upper()}", raising=False)
    assert Settings(_env_file=EXAMPLE) == Settings(_env_file=None)


def test_environment_overrides_and_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_DISPATCHER_CONCURRENCY", "32")
    assert Settings(_env_file=None).dispatcher_concurrency == 32
    monkeypatch.setenv("OUTREACH_DISPATCHER_CONCURRENCY", "0")
    with pytest.raises(ValueError, match="dispatcher_concurrency"):
        Settings(_env_file=None)


def test_export_attributes_are_a_comma_list_without_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_EXPORT_ATTRIBUTES", "district, household")
    assert Settings(_env_file=None).export_attributes == ["district", "household"]
    monkeypatch.setenv("OUTREACH_EXPORT_ATTRIBUTES", "district,phone")
    with pytest.raises(ValueError, match="phone identify a resident and can never be exported"):
        Settings(_env_file=None)


@pytest.mark.parametrize(
    "domain",
    [
        ".".join(("a" * 63, "b" * 63, "c" * 63, "d" * 62)),  # 254 characters: more than DNS holds
        "o" * 64 + ".gdansk.pl",  # a label of 64
        "odpowiedzi..gdansk.pl",  # an empty label
    ],
    ids=["254-characters", "label-of-64", "empty-label"],
)
def test_start_up_refuses_a_reply_domain_no_message_id_can_carry(monkeypatch: pytest.MonkeyPatch, domain: str) -> None:
    monkeypatch.setenv("OUTREACH_EMAIL_REPLY_DOMAIN", domain)
    with pytest.raises(ValueError, match=r"OUTREACH_EMAIL_REPLY_DOMAIN .* is not a domain name"):
        Settings(_env_file=None)
    longest = ".".join(("a" * 63, "b" * 63, "c" * 63, "d" * 61))  # 253: DNS's longest name
    monkeypatch.setenv("OUTREACH_EMAIL_REPLY_DOMAIN", longest)
    assert Settings(_env_file=None).email_reply_domain == longest


def test_start_up_refuses_a_reply_domain_whose_message_ids_the_store_cannot_keep() -> None:
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_from="konsultacje@gdansk.example",
        email_reply_domain="odpowiedzi.konsultacje.gdansk.pl",
        email_token_secret="a-token-secret-of-32-characters!",
        _env_file=None,
    )
    email = build_provider_channels(settings)["email"]  # 65 characters fit
    assert isinstance(email, EmailChannel)
    assert len(email.message_id(email.token("any key"))) == 65 <= PROVIDER_ID_LENGTH
    with pytest.raises(ValueError, match=r"OUTREACH_EMAIL_REPLY_DOMAIN is too long: .* 65 characters, .* keeps 64"):
        check_message_ids_fit(email, limit=64)  # the columns before revision 0004
