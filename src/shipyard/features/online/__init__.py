"""Online stores: the latest feature values per entity, in SQLite (default) or Redis."""

from shipyard.features.online._base import OnlineBatch, OnlineRecord, OnlineStore
from shipyard.features.online._open import online_store_url, open_online_store
from shipyard.features.online._redis import RedisOnlineStore
from shipyard.features.online._sqlite import SqliteOnlineStore

__all__ = [
    "OnlineBatch",
    "OnlineRecord",
    "OnlineStore",
    "RedisOnlineStore",
    "SqliteOnlineStore",
    "online_store_url",
    "open_online_store",
]
