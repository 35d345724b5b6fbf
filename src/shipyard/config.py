"""Shipyard's settings: one typed object, read once, passed explicitly.

Sources, later ones winning: defaults, the YAML file ``<home>/config.yaml``
(or the file named by ``SHIPYARD_CONFIG``), then ``SHIPYARD_*`` environment
variables (``SHIPYARD_DATABASE_URL``, ``SHIPYARD_BLOB_URL`` ...).

``load_settings()`` reads those sources; it is how a program gets this
installation's settings. ``Settings(...)`` builds one explicitly (tests, embedding)
from its arguments and defaults only, with one exception: the home, which every
other default hangs off, is ``SHIPYARD_HOME`` when that is set, else
``~/.shipyard``, in both (``default_home``). So ``Settings()`` and
``load_settings()`` never disagree on where the state is.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from shipyard._connection import Connection, default_home, read_sources, validated
from shipyard.errors import InvalidInput

_HOSTNAME = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\Z")


class Settings(Connection):
    """Where Shipyard keeps its state and how its servers listen (and, from ``Connection``,
    how clients reach a server)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    home: Path = Field(default_factory=lambda: default_home(os.environ))
    database_url: str | None = None
    """PostgreSQL over verified TLS: ``...?sslmode=verify-full&sslrootcert=/path/ca.pem``
    (libpq's parameters reach the driver as they are; a server without TLS is refused)."""
    blob_url: str | None = None
    blob_storage_options: dict[str, Any] = Field(default_factory=dict)
    """Options of the S3 filesystem (s3fs): for a private CA, ``client_kwargs: {verify:
    /path/ca.pem}``; for encryption at rest, ``s3_additional_kwargs: {ServerSideEncryption:
    aws:kms, SSEKMSKeyId: ...}`` (or ``AES256``)."""
    encryption: Literal["on", "off"] = "on"
    """Whether new blobs are encrypted at rest (a data key per object, wrapped by a
    key-encryption key); blobs stored either way stay readable, so it can be turned off
    and on again."""
    kek_provider: Literal["local", "aws-kms"] = "local"
    """Where key-encryption keys live: ``local`` keeps them in ``<home>/keys/kek-<id>.key``;
    ``aws-kms`` in AWS KMS (or a compatible service at ``kms_endpoint_url``), with
    credentials from boto3's usual chain."""
    kek_id: str | None = Field(default=None, validate_default=True)
    """Local: pin new data keys to this key-encryption key; unset, the current one
    (``<home>/keys/kek-current``, made on first use and moved by ``encryption rotate``).
    aws-kms (required): the KMS key id, ARN or alias new data keys start under, until
    ``encryption rotate`` moves them (``<home>/keys/kms-current``)."""
    kms_endpoint_url: str | None = None
    """aws-kms: the KMS endpoint, for a KMS-compatible service; unset, AWS's own."""
    kms_region: str | None = None
    """aws-kms: the KMS region; unset, boto3's default."""
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    serving_port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    max_upload_bytes: int = Field(default=1024 * 1024 * 1024, gt=0)
    upload_idle_timeout_seconds: float = Field(default=30.0, gt=0)
    key_cache_seconds: float = Field(default=5.0, ge=0)
    """How often a serving worker reloads all keys and policies regardless (0: never). Key
    changes reach it sooner: new keys are looked up on first use, and revocations and policy
    changes within a second through the security generation it polls."""
    tls_cert: Path | None = None
    """The servers' certificate (PEM, chain after the leaf); with ``tls_key`` they speak
    only HTTPS, TLS 1.2 or later."""
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    """CA certificates client certificates must chain to; set, the servers ask for one,
    and a verified certificate naming ``sy:principal/NAME`` authenticates as that service
    principal."""
    require_tls: bool = False
    """Refuse to start a server without a certificate (no plain HTTP listener)."""
    transform_engine: Literal["duckdb", "spark"] = "duckdb"
    spark_master: str = "local[2]"
    ingest_in_memory_max_bytes: int = Field(default=256 * 1024 * 1024, ge=0)
    online_store_url: str | None = None
    job_start: Literal["warm", "spawn"] = "warm"
    executor: str = "local"
    """Where job work runs: ``local`` (a process pool on this machine), ``ray:local`` (a
    Ray instance started on 127.0.0.1) or ``ray://HOST:PORT`` (a Ray cluster)."""
    ray_token_file: Path | None = None
    """The file holding the Ray cluster's authentication token (``ray://``); unset, Ray
    looks where it always does (``RAY_AUTH_TOKEN``, ~/.ray/auth_token)."""
    allowed_source_hosts: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1", "localhost"]
    )
    """Hosts stream sources may connect to: hostnames (matched literally, never resolved),
    IP addresses and CIDR networks such as ``192.168.7.0/24``. Loopback only by default."""
    allowed_source_schemes: list[str] = Field(
        default_factory=lambda: ["redis", "rediss", "nats", "tls"]
    )
    """URL schemes stream sources may use; add ``unix``, ``ws`` or ``wss`` to allow those."""
    webhook_allowed_hosts: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1", "localhost"]
    )
    """Hosts alarm webhooks may be sent to, as ``allowed_source_hosts``. Loopback only by
    default."""
    scheduler_in_server: bool = True
    """Whether ``shipyard server`` runs the scheduler (monitors, alarms, pipeline schedules);
    ``shipyard scheduler`` runs it on its own."""
    audit_seal_seconds: float = Field(default=5.0, ge=0)
    """How often ``shipyard server`` chains new audit events and signs a checkpoint of the
    chain's head (0: only when the log is verified or exported)."""
    price_cpu_hour: float = Field(default=0.04048, ge=0)
    """What one CPU-hour costs (default: AWS Fargate's Linux/x86 price per vCPU-hour in
    us-east-1), in ``currency``."""
    price_gb_hour: float = Field(default=0.004445, ge=0)
    """What one GB of memory held for an hour costs (default: Fargate's per GB-hour)."""
    currency: str = "USD"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    console_session_minutes: int = Field(default=480, ge=1, le=60 * 24 * 30)
    """How long a web console login lasts (8 hours by default); revoking its key or
    removing its principal ends it sooner."""
    console_allowed_hosts: list[str] = Field(default_factory=list)
    """``Host`` header values the console and cookie-authenticated requests are answered
    for, beyond 127.0.0.1, localhost and [::1] with the server's port (``name:port``, or a
    bare name for port 80/443): a defence against DNS rebinding."""
    console_login_failures_per_minute: int = Field(default=10, ge=1)
    """Failed console logins one client address may make a minute (bursts of as many)."""
    rate_limit_per_second: float | None = Field(default=None, gt=0)
    """Requests a second each principal may make on each server (control plane, and each
    serving process, which takes its share: the rate over its workers), unless the
    principal has limits of its own (``shipyard principals limits``). None: no limit."""
    rate_limit_burst: int | None = Field(default=None, ge=1)
    """Requests a principal may make at once above its rate (default: one second's worth)."""
    daily_request_quota: int | None = Field(default=None, ge=1)
    """Requests each principal may make a UTC day over both planes, unless it has a quota
    of its own. None: no quota."""

    @field_validator("encryption", mode="before")
    @classmethod
    def _on_off(cls, value: object) -> object:
        """YAML reads a bare ``off`` as False."""
        if isinstance(value, bool):
            return "on" if value else "off"
        return value

    @field_validator("kek_id")
    @classmethod
    def _key_id(cls, key_id: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("kek_provider") == "aws-kms":
            if key_id is None:
                raise ValueError("the aws-kms key provider needs a KMS key id, ARN or alias")
            if not re.fullmatch(r"[A-Za-z0-9:/_+=,.@-]{1,2048}", key_id):
                raise ValueError("not a KMS key id, ARN or alias")
        elif key_id is not None and not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", key_id):
            raise ValueError("a key id is 1-63 lowercase letters, digits and '-'")
        return key_id

    @field_validator("executor")
    @classmethod
    def _known_executor(cls, value: str) -> str:
        from shipyard.executors import parse_executor

        try:
            return parse_executor(value)
        except InvalidInput as problem:
            raise ValueError(str(problem)) from None

    @field_validator(
        "allowed_source_hosts",
        "allowed_source_schemes",
        "webhook_allowed_hosts",
        "console_allowed_hosts",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """Accept ``SHIPYARD_ALLOWED_SOURCE_HOSTS=a,b`` as well as a YAML list."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("allowed_source_hosts", "webhook_allowed_hosts")
    @classmethod
    def _hosts_or_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                if not _HOSTNAME.match(entry):
                    raise ValueError(
                        f"{entry!r} is not a hostname, IP address or network"
                    ) from None
        return [entry.lower() for entry in value]

    @field_validator("console_allowed_hosts")
    @classmethod
    def _host_values(cls, value: list[str]) -> list[str]:
        return [entry.lower() for entry in value]

    @property
    def metadata_url(self) -> str:
        """The SQLAlchemy URL of the metadata database (SQLite under home by default)."""
        return self.database_url or f"sqlite:///{self.home / 'shipyard.db'}"

    @property
    def blobs_url(self) -> str:
        """The blob store location (a directory under home by default)."""
        return self.blob_url or str(self.home / "blobs")

    @property
    def blob_encryption(self) -> dict[str, Any]:
        """How the blob store seals and opens objects (JSON, for worker processes too)."""
        return {
            "provider": self.kek_provider,
            "keys": str(self.home / "keys"),
            "kek_id": self.kek_id,
            "endpoint_url": self.kms_endpoint_url,
            "region": self.kms_region,
            "seal_writes": self.encryption == "on",
        }

    @property
    def jobs_dir(self) -> Path:
        """Where job logs and scratch files live on this machine."""
        return self.home / "jobs"


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read settings once from the config file, the environment and explicit overrides."""
    env = os.environ if environ is None else environ
    values = read_sources(
        env, Settings.model_fields, overrides.get("home"), parsed=("blob_storage_options",)
    )
    values.update({k: v for k, v in overrides.items() if v is not None})
    values.setdefault("home", default_home(env))
    settings: Settings = validated(Settings, values)
    return settings
