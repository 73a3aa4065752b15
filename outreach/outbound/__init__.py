"""Sending: the outbox dispatcher, its lanes, provider rate limits, channel fallback, and the
delivery status providers report back."""
