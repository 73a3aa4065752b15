"""Storage: sqlmodel tables, the async engine and sessions, narrow repositories, read models for
results and exports, and the alembic migrations."""
