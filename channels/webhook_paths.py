"""The paths providers and residents call on this service, one constant each: the web app routes
them (outreach/web/app.py), and the channels build callback URLs and requests from them."""

from __future__ import annotations

TWILIO_INBOUND = "/webhooks/twilio/sms"
TWILIO_STATUS = "/webhooks/twilio/status"
TELEGRAM = "/webhooks/telegram"
SANDBOX = "/webhooks/sandbox/{channel}"
ANSWER_LINK = "/answer/{token}/{key}"
UNSUBSCRIBE_LINK = "/unsubscribe/{token}"
