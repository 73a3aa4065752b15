"""Keeping residents' personal data out of what officials read: one scrubber for free text (phones,
e-mail addresses, PESEL numbers), shared by results and by whatever else publishes words residents wrote."""
