"""Settings from OUTREACH_* environment variables and a `.env` file (documented in .env.example)."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from flows.age_bands import DEFAULT_AGE_BANDS, parse_age_bands
from flows.texts import PrivacyNotice
from outreach.faults import FaultPoint
from storage.database_urls import with_async_driver
from storage.keyring import Keyring, KeyringError, configured_keyring

RowTimePrecision = Literal["hour", "day"]  # nothing finer: see Settings.row_time_precision

PERSONAL_COLUMNS = {"phone", "email", "telegram_chat_id", "address", "name", "first_name", "last_name"}

Mode = Literal["development", "production"]

DEFAULT_SPOOL_FOLDER = "outreach-spool"
DEFAULT_IMPORT_FOLDER = "outreach-imports"

# Each provider: the settings that show it is meant to be on, and what it then needs (each a group of
# alternatives: any one of them will do). A provider set only in part is refused in every mode: the
# sandbox that stood in for it "sent" with fake ids, charged the budget, and reached nobody.
PROVIDER_SETTINGS: dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = {
    "OpenID Connect login": (
        ("admin_oidc_issuer", "admin_oidc_client_id", "admin_oidc_client_secret"),
        (("admin_oidc_issuer",), ("admin_oidc_client_id",), ("admin_oidc_client_secret",)),
    ),
    "Twilio": (
        (
            "twilio_account_sid",
            "twilio_auth_token",
            "twilio_from",
            "twilio_messaging_service_sid",
            "twilio_whatsapp_from",
        ),
        (("twilio_account_sid",), ("twilio_auth_token",), ("twilio_from", "twilio_messaging_service_sid")),
    ),
    "Telegram": (("telegram_bot_token", "telegram_webhook_secret"), (("telegram_bot_token",),)),
    "email": (
        (
            "smtp_host",
            "smtp_user",
            "smtp_password",
            "smtp_from",
            "email_reply_domain",
            "email_token_secret",
            "imap_host",
        ),
        (("smtp_host",), ("smtp_from",), ("email_reply_domain",), ("email_token_secret",)),
    ),
    "the SMTP login": (("smtp_user", "smtp_password"), (("smtp_user",), ("smtp_password",))),
    "the replies mailbox": (
        ("imap_host", "imap_user", "imap_password"),
        (("imap_host",), ("imap_user",), ("imap_password",)),
    ),
}


def env_name(field: str) -> str:
    """The environment variable of a Settings field."""
    return f"OUTREACH_{field.upper()}"


def _either(names: tuple[str, ...]) -> str:
    return " or ".join(env_name(name) for name in names)


class Settings(BaseSettings):
    # Empty values mean "not set", as in .env.example.
    # A refused configuration is printed without its input: that holds the tokens and passwords.
    model_config = SettingsConfigDict(
        env_prefix="OUTREACH_", env_file=".env", extra="ignore", env_ignore_empty=True, hide_input_in_errors=True
    )

    # development (the default): with no provider configured the sandbox serves every channel, and
    # `serve` binds loopback only. production: never the sandbox; every secret must be set.
    env: Mode = "development"
    # The interface `serve` binds (its --host wins); unset: 127.0.0.1 in development, 0.0.0.0 in production.
    host: str | None = None

    database_url: str = "sqlite+aiosqlite:///./outreach.db"
    public_url: str = "http://127.0.0.1:8080"
    log_level: str = "INFO"
    # text: a line a person reads; json: one JSON object per line (time, level, logger, message, pid).
    log_format: Literal["text", "json"] = "text"

    # The key of respondent pseudonyms (HMAC of resident and campaign). When unset, a random key is
    # made once and kept in the database: set it to keep pseudonyms stable across a database rebuild.
    pseudonym_secret: SecretStr | None = None

    # Residents' addresses are stored encrypted (AES-256-GCM) and found by a keyed blind index
    # (HMAC-SHA256): ENCRYPTION_KEYS is "ID:BASE64KEY" items, current first ("k2:...,k1:..."; the
    # others still open rows until `outreach keys rotate` has moved them); BLIND_INDEX_KEY is one
    # base64 key, never rotated. Or ENCRYPTION_KEY_FILE: a JSON file {"encryption_keys": [...],
    # "blind_index_key": "..."}. Make keys with `outreach keys new`. Unset in development: public
    # development keys (said loudly at start); production refuses to start. A lost key loses every
    # address: back the keys up apart from the database (docs/PRIVACY.md, "Encryption at rest").
    encryption_keys: SecretStr | None = None
    encryption_key_file: Path | None = None
    blind_index_key: SecretStr | None = None

    # GET /metrics (Prometheus) answers a scrape that carries `Authorization: Bearer METRICS_TOKEN`, or
    # one from an address in METRICS_ALLOW (IP networks, comma-separated; "none": no address) that did
    # not come through a proxy (no Forwarded / X-Forwarded-For header: a proxy's own address would let
    # the whole internet in). Default: loopback only, no token. docs/SECURITY.md.
    metrics_token: SecretStr | None = Field(default=None, min_length=16)
    metrics_allow: Annotated[list[IPv4Network | IPv6Network], NoDecode] = [
        IPv4Network("127.0.0.0/8"),
        IPv6Network("::1/128"),
    ]

    # REST API: requests per minute per token (429 with Retry-After beyond), and the smallest group
    # shown in results broken down by an attribute (smaller cells are suppressed: k-anonymity).
    api_rate_limit_per_minute: int = Field(default=120, ge=1)
    small_cell_k: int = Field(default=5, ge=1)

    # Officials' pages (/admin): a password link's lifetime; consecutive failed logins before an
    # account is locked, and for how long; a login session's idle and absolute limits.
    admin_password_link_hours: int = Field(default=24, ge=1)
    admin_login_attempts: int = Field(default=5, ge=1)
    admin_lockout_minutes: int = Field(default=15, ge=1)
    admin_session_idle_minutes: int = Field(default=30, ge=1)
    admin_session_hours: int = Field(default=12, ge=1)
    # A launch to more residents than this needs a second official's approval (campaigns/launch_approval.py).
    admin_approval_threshold: int = Field(default=1000, ge=0)
    # Optional login through the city's OpenID Connect provider (SSO): its issuer URL (discovery is at
    # ISSUER/.well-known/openid-configuration), this service's client there, the path the provider sends
    # the browser back to (register PUBLIC_URL + that path with it), and the name the login button shows.
    # Only an existing, active official whose verified e-mail the provider gives is let in.
    admin_oidc_issuer: str | None = None
    admin_oidc_client_id: str | None = None
    admin_oidc_client_secret: SecretStr | None = None
    admin_oidc_redirect_path: str = Field(default="/admin/oidc/callback", pattern=r"^/admin/[A-Za-z0-9/_-]+$")
    admin_oidc_name: str = Field(default="city SSO", min_length=1, max_length=60)

    # Resident attributes that may ever leave the service (exports, API); addresses never do.
    export_attributes: Annotated[list[str], NoDecode] = ["district", "age_band", "sex"]
    # Age bands, youngest first, each starting where the last ended ("16-17,18-29,..." where a city
    # enrols 16-year-olds): the one list imports, enrolment, the demo, margins and results use.
    age_bands: Annotated[list[str], NoDecode] = list(DEFAULT_AGE_BANDS)
    # How exactly a row that leaves the service (API answers, exports) says when it was answered: the
    # time is cut down to the hour or the day (UTC), because an exact time joins a pseudonymous row to
    # the provider's log of who wrote when (outreach.results.public_values.public_time).
    row_time_precision: RowTimePrecision = "hour"

    # Price of one SMS segment per destination country prefix, for previews and budgets
    # ("+48=0.04,+380=0.10"); the defaults are rough list prices: set your contract's.
    sms_prices: Annotated[dict[str, float], NoDecode] = {"+48": 0.04, "+380": 0.10}
    sms_price_currency: str = "USD"

    # The city's districts (CSV: district,population), for self-enrolment and the demo; unset, the
    # public Gdańsk list that ships with outreach.
    districts_file: Path | None = None

    default_region: str = Field(default="PL", min_length=2, max_length=2)
    organisation: str = "Miasto Gdańsk"
    # Residents are told who processes their data and why (GDPR art. 13): the first message of a
    # campaign and HELP name the controller (unset: the organisation) and link the privacy notice
    # page, PUBLIC_URL/privacy, which names the data protection officer's contact.
    controller_name: str | None = Field(default=None, max_length=80)
    controller_contact: str = Field(default="", max_length=300)  # postal address or e-mail of the controller
    dpo_contact: str = Field(default="", max_length=300)  # the data protection officer: e-mail or address

    # Sends in flight, per channel: each channel has a pool of its own, so a slow provider never holds
    # up another. They must cover rate × provider latency (Telegram 30/s × 0.3 s = 9; docs/BENCHMARKS.md).
    # Unset: each channel gets twice its rate limit × DISPATCHER_LATENCY_MS, at least 4.
    dispatcher_concurrency: int | None = Field(default=None, ge=1, le=512)
    dispatcher_latency_ms: int = Field(default=300, ge=1, le=60_000)
    # A channel holds at most this many claimed rows and claims more when fewer than half are unfinished.
    dispatcher_batch_size: int = Field(default=200, ge=1, le=5000)
    dispatcher_poll_seconds: float = Field(default=1.0, gt=0)
    # Lifecycle jobs (start, close, reminders, expiry) run this often in every serve process.
    lifecycle_interval_seconds: float = Field(default=30.0, gt=0)
    # Messages held by quiet hours are released over this many minutes after the window ends.
    quiet_release_minutes: int = Field(default=60, ge=0, le=600)

    # Webhook input that meets a database outage is written here (one fsync'd file per message) and
    # answered 200, then applied in order when the database is back (outreach.inbound.spool). Unset:
    # `outreach-spool` beside the SQLite file, or in the working directory. A local disk, made 0700;
    # workers of one host share it. The flusher retries with a pause doubling up to SPOOL_RETRY_MAX_SECONDS.
    spool_dir: Path | None = None
    spool_retry_max_seconds: float = Field(default=15.0, gt=0, le=600)

    # A verified Twilio message is stored, then handled behind the webhook's answer (outreach.inbound.queue).
    # The webhook waits up to INBOUND_WAIT_SECONDS for its handling when nothing is ahead of it (0: never
    # waits); a worker holds the messages it stored for INBOUND_LEASE_SECONDS, after which another takes
    # over those a killed worker left; each worker looks for such messages every INBOUND_SWEEP_SECONDS.
    inbound_wait_seconds: float = Field(default=5.0, ge=0, le=10)
    inbound_lease_seconds: float = Field(default=30.0, gt=0, le=3600)
    inbound_sweep_seconds: float = Field(default=5.0, gt=0, le=600)

    # Residents files uploaded to POST /api/v1/residents/imports are streamed here, imported by the
    # process that took them, and deleted once imported (they hold addresses: a local disk, made 0700).
    # Unset: `outreach-imports` beside the SQLite file, or in the working directory. A body over
    # IMPORT_MAX_BYTES is refused with 413 (this route only; every other body keeps aiohttp's 1 MiB).
    import_dir: Path | None = None
    import_max_bytes: int = Field(default=1 << 30, ge=1)

    # A worker's claim on outbox rows lasts this long; after it, another worker takes the rows over
    # (unsent ones are sent, a send that had started is recorded as unknown, never repeated).
    claim_lease_seconds: float = Field(default=300.0, gt=0)
    # How often each sending worker reconciles sends of unknown outcome (asks the provider, else the policy).
    reconcile_seconds: float = Field(default=60.0, gt=0)

    # Provider limits, counted as providers count (SMS in segments per second per sender; Telegram
    # overall and per chat; mail per minute per relay). With REDIS_URL every worker shares them;
    # without, each process keeps them alone (run one sending process then).
    redis_url: str | None = None
    rate_sms_segments_per_second: float = Field(default=10.0, gt=0)
    rate_whatsapp_per_second: float = Field(default=10.0, gt=0)
    rate_telegram_per_second: float = Field(default=30.0, gt=0)
    rate_telegram_per_chat_per_second: float = Field(default=1.0, gt=0)
    rate_email_per_minute: float = Field(default=60.0, gt=0)

    # No address gets more than this many campaign messages in 24 hours (system replies aside).
    max_messages_per_address_per_day: int = Field(default=10, ge=1)
    # Fatigue: a resident is asked by at most MAX_ASKS campaigns in ASK_WINDOW_DAYS days (an ask: a
    # campaign's first question sent to them, sampled campaign or not); the others are held back.
    max_asks: int = Field(default=2, ge=1)
    ask_window_days: int = Field(default=30, ge=1, le=3660)

    # Retention (outreach.rights.retention, daily in `serve`, or `outreach retention run`; docs/PRIVACY.md).
    # 0 keeps forever. The text of residents' messages and kept mail bodies; messages from unknown
    # senders (strangers, spam), whole; the texts of messages sent; delivery reports whose send was never
    # recorded: each after this many days. Residents with no consent given or renewed, no answer and no
    # message in RETENTION_INACTIVE_MONTHS months are erased (0: never; a register may hold them on purpose).
    retention_inbound_days: int = Field(default=90, ge=0)
    retention_unknown_sender_days: int = Field(default=30, ge=0)
    retention_outbox_days: int = Field(default=90, ge=0)
    retention_early_reports_days: int = Field(default=7, ge=0)
    retention_inactive_months: int = Field(default=0, ge=0)
    # Outgoing webhook events with their deliveries: every delivery delivered (or none was wanted) after
    # the first; some delivery failed for good after the second (time to replay it). One still to be
    # delivered (pending, or waiting for a paused subscriber) is kept.
    retention_webhooks_delivered_days: int = Field(default=30, ge=0)
    retention_webhooks_failed_days: int = Field(default=90, ge=0)
    # Free-text answers keep residents' raw words this many days, then only their scrubbed form (all that
    # results and exports ever show): as long as the messages they came in (RETENTION_INBOUND_DAYS), time
    # to check a campaign's results against what was written.
    retention_raw_text_days: int = Field(default=90, ge=0)
    # Rows (residents, for inactive ones) per transaction: a batch holds SQLite's write lock a moment only.
    retention_batch_size: int = Field(default=1000, ge=1, le=50_000)

    send_max_attempts: int = Field(default=5, ge=1, le=50)
    send_backoff_seconds: float = Field(default=30.0, gt=0)

    # Outgoing webhooks (docs/API.md, "Receiving webhooks"). Subscriber URLs must be https:// unless
    # WEBHOOKS_ALLOW_HTTP; addresses that are not public (private, loopback, link-local, the cloud
    # metadata address) are refused after DNS and again at connect unless WEBHOOKS_ALLOW_PRIVATE (tests,
    # a subscriber on the same host). A delivery is tried up to WEBHOOKS_MAX_ATTEMPTS times, waiting
    # WEBHOOKS_BACKOFF_SECONDS doubled each time (at most 6 h); WEBHOOKS_PAUSE_AFTER failed attempts in
    # a row pause the subscriber. A rotated secret keeps signing beside the new one for
    # WEBHOOKS_SECRET_OVERLAP_HOURS.
    webhooks_allow_http: bool = False
    webhooks_allow_private: bool = False
    webhooks_max_attempts: int = Field(default=8, ge=1, le=50)
    webhooks_backoff_seconds: float = Field(default=30.0, gt=0)
    webhooks_pause_after: int = Field(default=20, ge=1)
    webhooks_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    webhooks_poll_seconds: float = Field(default=1.0, gt=0)
    webhooks_secret_overlap_hours: float = Field(default=24.0, ge=0, le=24 * 30)

    # Twilio (SMS, and WhatsApp with a WhatsApp-enabled sender). Off unless the SID, the token and a
    # sender (a From number or a Messaging Service) are set.
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_whatsapp_from: str | None = None
    twilio_api_url: str = "https://api.twilio.com"
    twilio_timeout_seconds: float = Field(default=10.0, gt=0)
    # How long Twilio's Messages list may lag: a send of unknown outcome missing from it is surely not
    # sent only this long after it started (channels.twilio_sms).
    twilio_list_grace_seconds: float = Field(default=300.0, gt=0)

    # Telegram: on when the bot token is set. "webhook" mode registers PUBLIC_URL/webhooks/telegram
    # with Telegram (a secret is then required); "polling" mode long-polls, for deployments that
    # have no public URL. The API URL can point at a self-hosted Bot API server (or a stand-in).
    telegram_bot_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_mode: Literal["webhook", "polling"] = "webhook"

    # Email: on when SMTP_HOST, SMTP_FROM, EMAIL_REPLY_DOMAIN and EMAIL_TOKEN_SECRET are set. Replies go
    # to reply+TOKEN@EMAIL_REPLY_DOMAIN, which must reach the IMAP mailbox the service polls.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    email_reply_domain: str | None = None
    email_token_secret: SecretStr | None = Field(default=None, min_length=16)
    # The authserv-id our receiving server stamps on Authentication-Results; when set, a mail without a
    # reply token counts as from its From address if that header shows DMARC pass (off when unset).
    email_authserv_id: str | None = None
    imap_host: str | None = None
    imap_port: int = 993
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_mailbox: str = "INBOX"
    imap_tls: Literal["tls", "none"] = "tls"
    imap_poll_seconds: float = Field(default=30.0, gt=0)

    sandbox_secret: SecretStr | None = None
    sandbox_latency_ms: int = Field(default=0, ge=0, le=60_000)
    sandbox_delivery_log: Path | None = None

    # Test only (outreach.faults): the worker kills itself at the Nth event of a kind, e.g. send_marked:3.
    # Refused in production.
    fault_point: str | None = None

    @field_validator("export_attributes", "age_bands", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @field_validator("metrics_allow", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().lower() == "none":
                return []
            try:
                return [ip_network(item.strip()) for item in value.split(",") if item.strip()]
            except ValueError as error:
                raise ValueError(f"{error} (give IP addresses or networks, e.g. 10.0.0.0/8,::1)") from None
        return value

    @field_validator("sms_prices", mode="before")
    @classmethod
    def _price_list(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        prices = {}
        for item in filter(None, (part.strip() for part in value.split(","))):
            prefix, _, price = item.partition("=")
            if not prefix.startswith("+") or not prefix[1:].isdigit() or not price:
                raise ValueError(f"'{item}' is not PREFIX=PRICE, e.g. +48=0.04")
            prices[prefix] = float(price)
        return prices

    @field_validator("database_url")
    @classmethod
    def _a_database_we_speak(cls, url: str) -> str:
        return with_async_driver(url)

    @field_validator("fault_point")
    @classmethod
    def _a_fault_point(cls, spec: str | None) -> str | None:
        if spec is not None:
            FaultPoint.parse(spec)
        return spec

    @field_validator("export_attributes")
    @classmethod
    def _never_addresses(cls, names: list[str]) -> list[str]:
        forbidden = sorted(set(names) & PERSONAL_COLUMNS)
        if forbidden:
            raise ValueError(f"{', '.join(forbidden)} identify a resident and can never be exported")
        return names

    @field_validator("age_bands")
    @classmethod
    def _age_bands(cls, labels: list[str]) -> list[str]:
        return [band.label for band in parse_age_bands(labels)]  # "30 - 44" is written 30-44

    @field_validator("email_reply_domain")
    @classmethod
    def _a_domain_name(cls, domain: str | None) -> str | None:
        # Messages are known by their Message-ID, TOKEN@domain, which the store keeps whole (up to
        # storage.tables.PROVIDER_ID_LENGTH; outreach.bootstrap checks the sum): a name DNS can hold.
        if domain is not None and (len(domain) > 253 or any(not 0 < len(label) <= 63 for label in domain.split("."))):
            raise ValueError(
                f"OUTREACH_EMAIL_REPLY_DOMAIN ({len(domain)} characters) is not a domain name:"
                " at most 253 characters, of labels of 1-63 between the dots"
            )
        return domain

    def pseudonym_key(self) -> str | None:
        return self.pseudonym_secret.get_secret_value() if self.pseudonym_secret else None

    def keyring(self) -> Keyring:
        """The keys of addresses at rest (storage.keyring.configured_keyring); KeyringError names the setting."""
        return configured_keyring(
            env=self.env,
            encryption_keys=self.encryption_keys.get_secret_value() if self.encryption_keys else None,
            encryption_key_file=self.encryption_key_file,
            blind_index_key=self.blind_index_key.get_secret_value() if self.blind_index_key else None,
        )

    @model_validator(mode="after")
    def _complete(self) -> Settings:
        problems = self.configuration_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def privacy_notice(self) -> PrivacyNotice:
        """The controller residents are told of, and the privacy notice page's address."""
        return PrivacyNotice(self.controller_name or self.organisation, f"{self.public_url.rstrip('/')}/privacy")

    def configuration_problems(self) -> list[str]:
        """What keeps this configuration from starting, each naming the settings to give."""
        problems = []
        for provider, (signs, needs) in PROVIDER_SETTINGS.items():
            given = [env_name(name) for name in signs if getattr(self, name) is not None]
            missing = [_either(group) for group in needs if all(getattr(self, name) is None for name in group)]
            if given and missing:
                problems.append(f"{provider} is set only in part ({', '.join(given)}): {', '.join(missing)} missing")
        if self.telegram_bot_token and self.telegram_mode == "webhook" and not self.telegram_webhook_secret:
            problems.append(
                "OUTREACH_TELEGRAM_WEBHOOK_SECRET is required in webhook mode (1-256 of A-Z a-z 0-9 _ -),"
                " or set OUTREACH_TELEGRAM_MODE=polling"
            )
        try:
            self.keyring()
        except KeyringError as error:
            problems.append(str(error))
        if self.env == "production":
            problems += self._production_problems()
            if self.fault_point is not None:
                problems.append("OUTREACH_FAULT_POINT is for tests only: refused in production")
        return problems

    def _production_problems(self) -> list[str]:
        problems = []
        if not (self.twilio_enabled or self.telegram_bot_token or self.email_enabled):
            problems.append("production: no provider is configured (Twilio, Telegram or email), and the sandbox is off")
        if self.pseudonym_secret is None:
            problems.append("production: OUTREACH_PSEUDONYM_SECRET is missing (the key of respondent pseudonyms)")
        if self.email_enabled and not (self.imap_host or self.imap_user or self.imap_password):
            problems.append(
                "production: email needs its replies mailbox (OUTREACH_IMAP_HOST, OUTREACH_IMAP_USER,"
                " OUTREACH_IMAP_PASSWORD): replies, STOPs by mail and bounces would go unread"
            )
        if self.admin_oidc_issuer and not self.admin_oidc_issuer.startswith("https://"):
            problems.append("production: OUTREACH_ADMIN_OIDC_ISSUER must start with https://")
        if not self.public_url.startswith("https://"):
            problems.append(
                "production: OUTREACH_PUBLIC_URL must start with https:// (answer links carry tokens;"
                " providers call and sign webhooks at it)"
            )
        return problems

    @property
    def inbound_spool_dir(self) -> Path:
        """SPOOL_DIR, or its default: beside the SQLite file (its data), else the working directory."""
        return self.spool_dir or self._beside_the_data(DEFAULT_SPOOL_FOLDER)

    @property
    def import_jobs_dir(self) -> Path:
        """IMPORT_DIR, or its default: beside the SQLite file, else the working directory."""
        return self.import_dir or self._beside_the_data(DEFAULT_IMPORT_FOLDER)

    def _beside_the_data(self, folder: str) -> Path:
        scheme, _, path = self.database_url.partition(":///")
        if scheme.startswith("sqlite") and path and not path.startswith(":memory:"):
            return Path(path.partition("?")[0]).parent / folder
        return Path(folder)

    @property
    def twilio_enabled(self) -> bool:
        sender = self.twilio_from or self.twilio_messaging_service_sid
        return bool(self.twilio_account_sid and self.twilio_auth_token and sender)

    def alphanumeric_sms_sender(self) -> bool:
        """An alphanumeric sender ("GDANSK") is one-way: residents cannot reply to it."""
        sender = self.twilio_from
        return sender is not None and not sender.lstrip("+").isdigit() and not self.twilio_messaging_service_sid

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host and self.smtp_from and self.email_reply_domain and self.email_token_secret)

    @property
    def imap_enabled(self) -> bool:
        return bool(self.imap_host and self.imap_user and self.imap_password)
