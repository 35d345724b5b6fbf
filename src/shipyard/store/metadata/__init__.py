"""The metadata store: SQLAlchemy tables, Alembic migrations, SQLite or PostgreSQL by URL."""

from shipyard.store.metadata import _tables as tables
from shipyard.store.metadata._database import Database

__all__ = ["Database", "tables"]
