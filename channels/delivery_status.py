"""The order of delivery statuses: which of two reports about one sent message is kept.

Every status a `DeliveryStatus` can carry: Twilio's message statuses (SMS and WhatsApp, lower-cased by
`channels.twilio_sms.parse_status`) and the two an email bounce report (DSN) becomes in
`channels.email` ("failed"; "delivered" for a DSN saying delivered, relayed or expanded; a "delayed"
DSN reports nothing). Telegram has no delivery reports.

Reports come unordered, late and repeated, so a message's status is the highest-ranked one reported,
whatever the order of arrival: a report stores its status only when it ranks strictly higher than the
stored one. A status never moves backwards, and of two statuses of equal rank the first one stays.

Late "delivered" after a failure: a carrier's delivery receipt can come after a failure report
(Twilio's "undelivered" for a handset that was off and later got the message on the carrier's retry,
receipts reordered on the way). A confirmed delivery is stronger evidence than an earlier report of
failure, so the statuses that say the message reached the resident (`REACHED`) rank above every
failure: "delivered" or "read" after "failed" or "undelivered" replaces it, and a failure after them
changes nothing. The address a failure marked dead is not dead after all: the caller that acts on
failures undoes that (`outreach.outbound.delivery_status`).

  0  none yet; unknown statuses; "receiving", "received" (statuses of messages sent to us, never
     of one we sent): never stored
  1  accepted (a messaging service picks the sender), scheduled (waits for its send time)
  2  queued
  3  sending
  4  sent (the carrier has it; for some carriers and for MMS the last word)
  5  failed, undelivered, canceled: final, it did not arrive (canceled: a scheduled message
     withdrawn before it was sent)
  6  partially_delivered: final, part of it arrived (more than a failure, less than a delivery)
  7  delivered
  8  read (WhatsApp: after delivered)
"""

from __future__ import annotations

from collections.abc import Mapping

STATUS_RANKS: Mapping[str, int] = {
    "receiving": 0,
    "received": 0,
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "failed": 5,
    "undelivered": 5,
    "canceled": 5,
    "partially_delivered": 6,
    "delivered": 7,
    "read": 8,
}
FAILED = frozenset({"failed", "undelivered"})  # a failure that can carry the reason (an error code)
REACHED = frozenset({"partially_delivered", "delivered", "read"})  # the resident got (some of) it


def status_rank(status: str | None) -> int:
    """Where a status stands in a message's life (see the table above); 0 for none and unknown ones."""
    return STATUS_RANKS.get(status, 0) if status is not None else 0
