"""The provider credentials, senders and webhook secrets the tests share (one place, not one per file).

The stand-ins in channels/standins/ are started with these, the service's settings name them, and the
tests sign webhooks with them. None of them is real; a test that needs a wrong one writes it out.
"""

from __future__ import annotations

from typing import Any

# Twilio (SMS and WhatsApp): the account, its auth token (the key webhooks are signed with), the senders.
TWILIO_ACCOUNT_SID = "AC" + "2" * 32
TWILIO_AUTH_TOKEN = "twilio-test-token"
TWILIO_SERVICE_SID = "MG" + "2" * 32  # a Messaging Service, the alternative to a From number
SMS_FROM = "+48500100100"
WHATSAPP_FROM = "+48500200200"

# Telegram: a bot token of the real shape (id:secret) and the secret Telegram sends on each webhook call.
TELEGRAM_BOT_TOKEN = "123456:AAH-test_token_abcdefghijklmnopqrstuvw"
TELEGRAM_WEBHOOK_SECRET = "webhook-secret_1"

# Email: the sender, the domain replies go to, and the key that signs reply tokens and link tokens.
EMAIL_FROM = "konsultacje@konsultacje.example"
REPLY_DOMAIN = "odpowiedzi.konsultacje.example"
EMAIL_TOKEN_SECRET = "a-token-secret-of-32-characters!"

# The sandbox channels (no provider configured): the secret their webhook calls carry.
SANDBOX_SECRET = "sandbox-test-secret"

# Keys of addresses at rest (base64 of 32 bytes): two encryption keys, and the blind-index key.
ENCRYPTION_KEY_1 = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
ENCRYPTION_KEY_2 = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
BLIND_INDEX_KEY = "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM="

# A production configuration that starts: Twilio complete, the secrets production requires, an https URL.
PRODUCTION_SETTINGS: dict[str, Any] = {
    "env": "production",
    "public_url": "https://konsultacje.example",
    "pseudonym_secret": "a-pseudonym-key-of-32-characters",
    "encryption_keys": f"k1:{ENCRYPTION_KEY_1}",
    "blind_index_key": BLIND_INDEX_KEY,
    "twilio_account_sid": TWILIO_ACCOUNT_SID,
    "twilio_auth_token": TWILIO_AUTH_TOKEN,
    "twilio_from": SMS_FROM,
}
