"""Alembic revisions, one schema change each, never rewritten once released."""
