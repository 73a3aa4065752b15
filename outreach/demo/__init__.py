"""`outreach demo`: a whole consultation through the real SMS and Telegram adapters, with simulated residents.

Only the residents and the providers are simulated. The providers are the bundled stand-ins
(`channels.standins`): a Twilio Messages API and a Telegram Bot API on 127.0.0.1 that speak the
providers' wire formats, so the service is configured as with real OUTREACH_TWILIO_* and
OUTREACH_TELEGRAM_* settings and sends through the real twilio SDK and python-telegram-bot. Residents
come in through the CSV import officials use, the example campaign is created and launched as from the
CLI, and the HTTP app (which registers its Telegram webhook at start) and its dispatcher do the rest.
Each simulated resident reads what the stand-in received for them and answers the way the provider
delivers it: a signed Twilio inbound-SMS webhook, or a Telegram update (typed text or a button tap)
carrying the webhook secret. No credentials, no network beyond 127.0.0.1. Email is off: there are no
mail settings, so residents are asked by SMS or Telegram (an email address only rides along).

Personal data rule: addresses are generated from fictional ranges and still never printed.

The rooms: `example` (the campaign and the city), `residents` (who is simulated), `replies` (how a
resident answers), `phone` (what reaches a resident and what they read in it), `providers` (the
stand-ins), `service` (the service as the demo configures it), `crowd` (the residents at their
phones), `board` (live progress), `run` (the demo from start to end).
"""
