"""One adapter per channel (Twilio SMS and WhatsApp, Telegram, email, a sandbox) behind the `Channel`
protocol of `channels.base`, and the provider stand-ins in `standins/`. Knows nothing of storage or outreach."""
