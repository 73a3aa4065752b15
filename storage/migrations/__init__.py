"""Alembic migrations of the schema (`outreach db upgrade` runs them)."""
