"""Settings: every one documented in .env.example, and the example itself means the defaults."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from channels.email import EmailChannel
from outreach.bootstrap import build_provider_channels, check_message_ids_fit
from outreach.settings import Settings
from storage.tables import PROVIDER_ID_LENGTH
from tests import providers
from tests.providers import PRODUCTION_SETTINGS

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


def test_age_bands_are_one_comma_list_written_as_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).age_bands == ["18-29", "30-44", "45-64", "65+"]
    monkeypatch.setenv("OUTREACH_AGE_BANDS", "16-17, 18 - 29,30-44,45-64,65+")
    assert Settings(_env_file=None).age_bands == ["16-17", "18-29", "30-44", "45-64", "65+"]
    monkeypatch.setenv("OUTREACH_AGE_BANDS", "18-29,35-44,45+")
    with pytest.raises(ValueError, match="'35-44' after '18-29' must start at 30"):
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
    for name, value in (EMAIL | {"email_reply_domain": longest}).items():  # email whole, not in part
        monkeypatch.setenv(f"OUTREACH_{name.upper()}", value)
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


# -- development and production; a provider set only in part -----------------------------------

TWILIO_SID, TWILIO_TOKEN = {"twilio_account_sid": providers.TWILIO_ACCOUNT_SID}, {"twilio_auth_token": "tok"}
EMAIL = {
    "smtp_host": "smtp.example",
    "smtp_from": providers.EMAIL_FROM,
    "email_reply_domain": providers.REPLY_DOMAIN,
    "email_token_secret": providers.EMAIL_TOKEN_SECRET,
}
IMAP = {"imap_host": "imap.example", "imap_user": "replies", "imap_password": "imap-password"}
NO_SENDER = "OUTREACH_TWILIO_FROM or OUTREACH_TWILIO_MESSAGING_SERVICE_SID missing"
PARTS: list[tuple[str, dict[str, Any], str]] = [
    (
        "twilio-without-a-sender",
        TWILIO_SID | TWILIO_TOKEN,
        f"Twilio is set only in part (OUTREACH_TWILIO_ACCOUNT_SID, OUTREACH_TWILIO_AUTH_TOKEN): {NO_SENDER}",
    ),
    ("twilio-whatsapp-sender-only", TWILIO_SID | TWILIO_TOKEN | {"twilio_whatsapp_from": "+48500"}, NO_SENDER),
    (
        "twilio-without-its-token",
        TWILIO_SID | {"twilio_from": providers.SMS_FROM},
        "OUTREACH_TWILIO_AUTH_TOKEN missing",
    ),
    (
        "telegram-secret-without-a-bot",
        {"telegram_webhook_secret": providers.TELEGRAM_WEBHOOK_SECRET},
        "Telegram is set only in part (OUTREACH_TELEGRAM_WEBHOOK_SECRET): OUTREACH_TELEGRAM_BOT_TOKEN missing",
    ),
    (
        "smtp-host-only",
        {"smtp_host": "smtp.example"},
        "email is set only in part (OUTREACH_SMTP_HOST): OUTREACH_SMTP_FROM, OUTREACH_EMAIL_REPLY_DOMAIN,"
        " OUTREACH_EMAIL_TOKEN_SECRET missing",
    ),
    (
        "smtp-user-without-password",
        EMAIL | {"smtp_user": "relay"},
        "the SMTP login is set only in part (OUTREACH_SMTP_USER): OUTREACH_SMTP_PASSWORD missing",
    ),
    ("mailbox-without-email", IMAP, "email is set only in part (OUTREACH_IMAP_HOST): OUTREACH_SMTP_HOST, "),
    (
        "mailbox-without-password",
        EMAIL | {"imap_host": "imap.example", "imap_user": "replies"},
        "the replies mailbox is set only in part (OUTREACH_IMAP_HOST, OUTREACH_IMAP_USER):"
        " OUTREACH_IMAP_PASSWORD missing",
    ),
]


@pytest.mark.parametrize("mode", ["development", "production"])
@pytest.mark.parametrize(("given", "missing"), [case[1:] for case in PARTS], ids=[case[0] for case in PARTS])
def test_a_provider_set_only_in_part_is_refused_naming_what_is_missing(
    mode: str, given: dict[str, Any], missing: str
) -> None:
    """In either mode: the sandbox that used to stand in "sent" with fake ids and charged the budget."""
    with pytest.raises(ValidationError) as refused:
        Settings(**given, env=mode, _env_file=None)
    assert missing in str(refused.value)


def test_the_mode_is_development_unless_set() -> None:
    assert Settings(_env_file=None).env == "development"
    assert Settings(**PRODUCTION_SETTINGS, _env_file=None).env == "production"


PRODUCTION_REFUSES: list[tuple[str, dict[str, Any], str]] = [
    ("no-pseudonym-key", {"pseudonym_secret": None}, "production: OUTREACH_PSEUDONYM_SECRET is missing"),
    ("plain-http-url", {"public_url": "http://konsultacje.example"}, "OUTREACH_PUBLIC_URL must start with https://"),
    (
        "no-provider",
        {"twilio_account_sid": None, "twilio_auth_token": None, "twilio_from": None},
        "production: no provider is configured (Twilio, Telegram or email), and the sandbox is off",
    ),
    ("email-without-its-mailbox", EMAIL, "production: email needs its replies mailbox (OUTREACH_IMAP_HOST, "),
    (
        "telegram-webhook-without-its-secret",
        {"telegram_bot_token": providers.TELEGRAM_BOT_TOKEN},
        "OUTREACH_TELEGRAM_WEBHOOK_SECRET is required in webhook mode",
    ),
    ("test-fault-point", {"fault_point": "send_marked:1"}, "OUTREACH_FAULT_POINT is for tests only"),
]


@pytest.mark.parametrize(
    ("change", "message"), [case[1:] for case in PRODUCTION_REFUSES], ids=[case[0] for case in PRODUCTION_REFUSES]
)
def test_production_refuses_to_start_without_a_provider_its_secrets_or_an_https_url(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**(PRODUCTION_SETTINGS | change), _env_file=None)
    assert message in str(refused.value)
    development = {name: value for name, value in change.items() if name != "telegram_bot_token"}
    Settings(**(PRODUCTION_SETTINGS | development | {"env": "development"}), _env_file=None)  # fine there
    assert Settings(**(PRODUCTION_SETTINGS | EMAIL | IMAP), _env_file=None).email_enabled


def test_a_refused_configuration_never_echoes_a_secret() -> None:
    """Its message names settings; the input it was given (tokens, passwords) stays out of it."""
    token = "1:s3cr3t"  # short: pydantic cuts long values short in what it prints
    with pytest.raises(ValidationError) as refused:
        Settings(telegram_bot_token=token, _env_file=None)  # webhook mode, no secret
    assert "OUTREACH_TELEGRAM_WEBHOOK_SECRET" in str(refused.value)
    assert "s3cr3t" not in str(refused.value)


KEYLESS = {"encryption_keys": None, "blind_index_key": None}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"encryption_keys": None},
            "production: OUTREACH_ENCRYPTION_KEYS (or OUTREACH_ENCRYPTION_KEY_FILE) is missing",
        ),
        ({"blind_index_key": None}, "production: OUTREACH_BLIND_INDEX_KEY (or blind_index_key in OUTREACH_ENCRYPTION"),
        ({"encryption_keys": "k1:AQID"}, "OUTREACH_ENCRYPTION_KEYS (key k1) is 3 bytes, not 32"),
    ],
    ids=["no-encryption-key", "no-blind-index-key", "short-key"],
)
def test_production_refuses_to_start_without_usable_address_keys(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**(PRODUCTION_SETTINGS | change), _env_file=None)
    assert message in str(refused.value)
    assert providers.ENCRYPTION_KEY_1 not in str(refused.value)


def test_development_without_keys_uses_the_public_development_keys_but_never_half_a_configuration() -> None:
    keyless = Settings(**(PRODUCTION_SETTINGS | KEYLESS | {"env": "development"}), _env_file=None)
    assert keyless.keyring().development
    with pytest.raises(ValidationError, match="development: OUTREACH_BLIND_INDEX_KEY"):
        Settings(encryption_keys=f"k1:{providers.ENCRYPTION_KEY_1}", _env_file=None)


def test_the_keys_come_from_a_key_file_current_first(tmp_path: Path) -> None:
    held = tmp_path / "keys.json"
    held.write_text(
        f'{{"encryption_keys": ["k2:{providers.ENCRYPTION_KEY_2}", "k1:{providers.ENCRYPTION_KEY_1}"],'
        f' "blind_index_key": "{providers.BLIND_INDEX_KEY}"}}'
    )
    ring = Settings(**(PRODUCTION_SETTINGS | KEYLESS), encryption_key_file=held, _env_file=None).keyring()
    assert ring.key_ids == ["k2", "k1"] and not ring.development
    with pytest.raises(ValidationError, match="both set: give one"):
        Settings(**PRODUCTION_SETTINGS, encryption_key_file=held, _env_file=None)
    with pytest.raises(ValidationError, match="OUTREACH_ENCRYPTION_KEY_FILE cannot be read as") as refused:
        Settings(**(PRODUCTION_SETTINGS | KEYLESS), encryption_key_file=tmp_path / "absent.json", _env_file=None)
    assert "No such file" in str(refused.value)
