"""The paths providers and residents call on this service, one constant each: the web app routes
them (outreach/web/app.py), and the channels build callback URLs and requests from them."""

from __future__ import annotations

TWILIO_INBOUND = "/webhooks/twilio/sms"
TWILIO_STATUS = "/webhooks/twilio/status"
TELEGRAM = "/webhooks/telegram"
SANDBOX = "/webhooks/sandbox/{channel}"
ANSWER_LINK = "/answer/{token}/{key}"
UNSUBSCRIBE_LINK = "/unsubscribe/{token}"

# Twilio's connection overrides, in the fragment of a webhook URL it is given (docs: "Webhooks (HTTP
# callbacks): Connection Overrides"): rc = retry count (0-5, default 1), rp = retry policy (ct, rt, 4xx,
# 5xx or all; by default only a failed connection is retried, so our 503 would be final). Twilio neither
# sends the fragment nor signs it.
TWILIO_RETRY_OVERRIDES = "#rc=5&rp=all"
