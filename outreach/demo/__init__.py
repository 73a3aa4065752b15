"""`outreach demo`: a whole consultation through the real adapters and the bundled stand-ins."""
