"""outreach: ask residents short questions over SMS, Telegram and email; collect the answers in one store."""
