"""Outgoing webhooks: subscribers registered by admins get the service's events posted to them, signed
as the Standard Webhooks specification says, at least once, from durable rows (storage.webhook_*)."""
