"""Imported last by the job host before it forks jobs: SQLAlchemy's mappers configured once.

An ORM's mappers are configured on first use in each process (about 25 ms for Shipyard's
tables here); done in the host, every forked job starts with them ready.
"""

from __future__ import annotations

from sqlalchemy.orm import configure_mappers

import shipyard.store.metadata  # noqa: F401 - every table module, so every mapper

configure_mappers()
