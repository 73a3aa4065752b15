"""Provider stand-ins that speak the providers' wire formats on loopback.

Both the tests and `outreach demo` use them: no machine here reaches Twilio or Telegram, and a
newcomer sees the real adapters' code paths without credentials.
"""
