"""The kinds of event outgoing webhooks carry: named apart from storage.webhook_events, so that the
CLI's help can list them without loading the database (tests/outreach/cli/test_lazy.py)."""

from __future__ import annotations

RESPONSE_CREATED = "response.created"
CONVERSATION_COMPLETED = "conversation.completed"
CAMPAIGN_STATUS_CHANGED = "campaign.status_changed"
RESPONDENT_ERASED = "respondent.erased"  # a tombstone: facts {"notice_id"} (storage.erasure)
EVENT_TYPES = (RESPONSE_CREATED, CONVERSATION_COMPLETED, CAMPAIGN_STATUS_CHANGED, RESPONDENT_ERASED)
