"""The metadata store: SQLAlchemy tables, Alembic migrations, SQLite or PostgreSQL by URL."""

from shipyard.store.metadata import _tables as tables
from shipyard.store.metadata import _tables_alarms as alarm_tables
from shipyard.store.metadata import _tables_certificates as certificate_tables
from shipyard.store.metadata import _tables_console as console_tables
from shipyard.store.metadata import _tables_contracts as contract_tables
from shipyard.store.metadata import _tables_cost as cost_tables
from shipyard.store.metadata import _tables_endpoints as endpoint_tables
from shipyard.store.metadata import _tables_erasure as erasure_tables
from shipyard.store.metadata import _tables_evaluations as evaluation_tables
from shipyard.store.metadata import _tables_exports as export_tables
from shipyard.store.metadata import _tables_features as feature_tables
from shipyard.store.metadata import _tables_groups as group_tables
from shipyard.store.metadata import _tables_jobs as job_tables
from shipyard.store.metadata import _tables_limits as limit_tables
from shipyard.store.metadata import _tables_monitoring as monitor_tables
from shipyard.store.metadata import _tables_pipelines as pipeline_tables
from shipyard.store.metadata import _tables_scheduling as scheduling_tables
from shipyard.store.metadata import _tables_streams as stream_tables
from shipyard.store.metadata import _tables_tags as tag_tables
from shipyard.store.metadata import _tables_transforms as transform_tables
from shipyard.store.metadata._database import Database
from shipyard.store.metadata._paging import (
    Keyset,
    check_limit,
    decode_token,
    encode_token,
    refused_token,
    token_scope,
)
from shipyard.store.metadata._references import blob_users, purge_unused_blobs
from shipyard.store.metadata._versioned import (
    AddedVersion,
    VersionedKind,
    add_version,
    claim_parent,
    find_parent,
    find_unchanged,
    find_versioned,
    latest_number,
    latest_version,
    live_versions,
    next_number,
    tombstone_text,
)
from shipyard.store.metadata._versioned_kinds import (
    CONTRACTS,
    DATASETS,
    FEATURE_VIEWS,
    MODELS,
    STREAMS,
    TRANSFORMS,
)

__all__ = [
    "CONTRACTS",
    "DATASETS",
    "FEATURE_VIEWS",
    "MODELS",
    "STREAMS",
    "TRANSFORMS",
    "AddedVersion",
    "Database",
    "Keyset",
    "VersionedKind",
    "add_version",
    "alarm_tables",
    "blob_users",
    "certificate_tables",
    "check_limit",
    "claim_parent",
    "console_tables",
    "contract_tables",
    "cost_tables",
    "decode_token",
    "encode_token",
    "endpoint_tables",
    "erasure_tables",
    "evaluation_tables",
    "export_tables",
    "feature_tables",
    "find_parent",
    "find_unchanged",
    "find_versioned",
    "group_tables",
    "job_tables",
    "latest_number",
    "latest_version",
    "limit_tables",
    "live_versions",
    "monitor_tables",
    "next_number",
    "pipeline_tables",
    "purge_unused_blobs",
    "refused_token",
    "scheduling_tables",
    "stream_tables",
    "tables",
    "tag_tables",
    "token_scope",
    "tombstone_text",
    "transform_tables",
]
