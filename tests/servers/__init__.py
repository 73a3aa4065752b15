"""Real servers on loopback for the channel tests: aiosmtpd (SMTP) and Dovecot (IMAP)."""
