"""Persistence: SQLAlchemy models, engine and transactions, migrations."""
