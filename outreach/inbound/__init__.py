"""Everything a resident's message goes through: the inbound pipeline, whole-message keywords,
self-enrolment, the service's own texts, Telegram taps and polling, and the email mailbox reader."""
