"""Shipyard's settings: one typed object, read once, passed explicitly.

Sources, later ones winning: defaults, the YAML file ``<home>/config.yaml``
(or the file named by ``SHIPYARD_CONFIG``), then ``SHIPYARD_*`` environment
variables (``SHIPYARD_DATABASE_URL``, ``SHIPYARD_BLOB_URL`` ...).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from shipyard.errors import InvalidInput

_ENV_PREFIX = "SHIPYARD_"


class Settings(BaseModel):
    """Where Shipyard keeps its state and how its servers listen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    home: Path = Field(default_factory=lambda: Path.home() / ".shipyard")
    database_url: str | None = None
    blob_url: str | None = None
    blob_storage_options: dict[str, Any] = Field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    serving_port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    max_upload_bytes: int = Field(default=1024 * 1024 * 1024, gt=0)
    key_cache_seconds: float = Field(default=5.0, ge=0)
    url: str | None = None
    api_key: SecretStr | None = None
    transform_engine: Literal["duckdb", "spark"] = "duckdb"
    spark_master: str = "local[2]"
    ingest_in_memory_max_bytes: int = Field(default=256 * 1024 * 1024, ge=0)
    online_store_url: str | None = None
    job_start: Literal["warm", "spawn"] = "warm"

    @property
    def metadata_url(self) -> str:
        """The SQLAlchemy URL of the metadata database (SQLite under home by default)."""
        return self.database_url or f"sqlite:///{self.home / 'shipyard.db'}"

    @property
    def blobs_url(self) -> str:
        """The blob store location (a directory under home by default)."""
        return self.blob_url or str(self.home / "blobs")

    @property
    def jobs_dir(self) -> Path:
        """Where job logs and scratch files live on this machine."""
        return self.home / "jobs"


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read settings once from the config file, the environment and explicit overrides."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    home = overrides.get("home") or env.get(f"{_ENV_PREFIX}HOME")
    config_file = env.get(f"{_ENV_PREFIX}CONFIG")
    candidate = (
        Path(config_file)
        if config_file
        else (Path(home) if home else Path.home() / ".shipyard") / "config.yaml"
    )
    if candidate.is_file():
        loaded = yaml.safe_load(candidate.read_text()) or {}
        if not isinstance(loaded, dict):
            raise InvalidInput(f"{candidate} must hold a mapping", field="config")
        values.update(loaded)
    for field in Settings.model_fields:
        raw = env.get(f"{_ENV_PREFIX}{field.upper()}")
        if raw is not None and raw != "":
            values[field] = yaml.safe_load(raw) if field == "blob_storage_options" else raw
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(first["msg"], field=field) from None
