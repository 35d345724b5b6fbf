"""The SDK's resource groups; each method is one catalog operation."""

from __future__ import annotations

import builtins
import os
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import httpx

from shipyard.client._paging import Listing, fetch_listing
from shipyard.client._transport import Transport
from shipyard.errors import InvalidInput, StorageError
from shipyard.names import check_name, parse_reference
from shipyard.schemas.cards import ModelCard
from shipyard.schemas.datasets import (
    DatasetInfo,
    DatasetVersionInfo,
    DeletionInfo,
    ErasureInfo,
    TablePreview,
)
from shipyard.schemas.registry import ApprovalDecision, LineageGraph, ModelInfo, ModelVersionInfo

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from shipyard.client._dataset_reads import ExportSummary

_REGISTER_ATTEMPTS = 3


class _Group:
    def __init__(self, transport: Transport) -> None:
        self._t = transport


def read_file(path: str | os.PathLike[str]) -> bytes:
    """A local file's bytes, or an error that names the file."""
    target = Path(path)
    if not target.is_file():
        raise InvalidInput(f"{target} does not exist or is not a file", field="file")
    try:
        return target.read_bytes()
    except OSError as error:
        raise InvalidInput(f"cannot read {target}: {error.strerror}", field="file") from None


class Datasets(_Group):
    def ingest(
        self,
        path: str | os.PathLike[str],
        name: str,
        *,
        format: str | None = None,
        partition_by: str | None = None,
        contract: str | None = None,
        on_fail: str = "reject",
        tags: dict[str, str] | None = None,
    ) -> DatasetVersionInfo:
        """Ingest a CSV, Parquet or JSON Lines file as a new version of ``name``.

        The file is streamed, never read whole into memory; ``partition_by`` names the
        column(s), comma-separated, whose values split the version into Parquet partitions.
        With a ``contract`` the file is validated first and, on failure, rejected,
        quarantined or stored with a warning (``on_fail``); this returns the stored rows'
        version (see ``client.contracts.ingest`` for the whole outcome). ``tags`` are set on
        the dataset (which needs ``datasets:TagResource`` too).
        """
        if contract is not None:
            if tags:
                raise InvalidInput("cannot be combined with a contract", field="tags")
            if partition_by:
                raise InvalidInput("cannot be combined with a contract", field="partition_by")
            from shipyard.client._contracts import gated_ingest

            outcome = gated_ingest(self._t, path, name, contract, on_fail=on_fail, format=format)
            stored = outcome.dataset or outcome.quarantine
            assert stored is not None
            return stored
        check_name(name)
        source = Path(path)
        if not source.is_file():
            raise InvalidInput(f"{source} does not exist or is not a file", field="file")
        return DatasetVersionInfo.model_validate(
            self._t.call(
                "datasets.ingest",
                name=name,
                content=source.absolute(),
                filename=source.name,
                format=format,
                partition_by=partition_by,
                **({"tags": [f"{k}={v}" for k, v in tags.items()]} if tags else {}),
            )
        )

    def list(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        name_contains: str | None = None,
    ) -> Listing[DatasetInfo]:
        """Datasets by name (those whose name holds ``name_contains``, any case): every
        one, or with ``limit``/``page_token`` one page (its
        ``next_page_token`` continues)."""
        return fetch_listing(
            self._t, "datasets.list", DatasetInfo, limit, page_token, name_contains=name_contains
        )

    def versions(self, name: str) -> builtins.list[DatasetVersionInfo]:
        return [
            DatasetVersionInfo.model_validate(d)
            for d in self._t.call("datasets.list_versions", name=name)
        ]

    def get(self, ref: str) -> DatasetVersionInfo:
        """A version by ``name`` (latest) or ``name@version``."""
        parsed = parse_reference(ref, field="dataset")
        return DatasetVersionInfo.model_validate(
            self._t.call("datasets.get", name=parsed.name, version=parsed.version)
        )

    def delete(self, ref: str, *, reason: str, force: bool = False) -> DeletionInfo:
        """Delete ``name@version`` (or every version of ``name``): its files are purged, a
        tombstone stays in lineage. ``force`` deletes a version a feature view reads."""
        parsed = parse_reference(ref, field="dataset")
        return DeletionInfo.model_validate(
            self._t.call(
                "datasets.delete",
                name=parsed.name,
                version=parsed.version,
                reason=reason,
                force=force,
            )
        )

    def erase(
        self, name: str, *, key: str, values: Sequence[str | int], reason: str
    ) -> ErasureInfo:
        """Remove every row whose ``key`` is one of ``values`` from every version of ``name``
        (versions keep their numbers; the old files are purged)."""
        return ErasureInfo.model_validate(
            self._t.call(
                "datasets.erase",
                name=name,
                key=key,
                values=[str(v) for v in values],
                reason=reason,
            )
        )

    def erasures(self, name: str) -> builtins.list[ErasureInfo]:
        """The erasure requests applied to ``name`` (with a salted hash, never the values)."""
        return [
            ErasureInfo.model_validate(e) for e in self._t.call("datasets.list_erasures", name=name)
        ]

    def head(self, ref: str, rows: int = 10) -> TablePreview:
        """The first rows as JSON-friendly values (at most 10,000; ``read`` has no cap)."""
        parsed = parse_reference(ref, field="dataset")
        return TablePreview.model_validate(
            self._t.call("datasets.head", name=parsed.name, version=parsed.version, rows=rows)
        )

    @overload
    def read(
        self,
        ref: str,
        *,
        columns: Sequence[str] | None = ...,
        filter: str | None = ...,
        as_pandas: Literal[False] = ...,
    ) -> pa.Table: ...

    @overload
    def read(
        self,
        ref: str,
        *,
        columns: Sequence[str] | None = ...,
        filter: str | None = ...,
        as_pandas: Literal[True],
    ) -> pd.DataFrame: ...

    def read(
        self,
        ref: str,
        *,
        columns: Sequence[str] | None = None,
        filter: str | None = None,
        as_pandas: bool = False,
    ) -> pa.Table | pd.DataFrame:
        """A version (``name`` for the latest, or ``name@3``) as an Arrow table or a pandas
        DataFrame: the ``columns`` chosen, the rows ``filter`` keeps (e.g.
        ``"age > 30 and country = 'FR'"``). No row cap; see ``iter_batches`` for tables
        larger than memory."""
        from shipyard.client._dataset_reads import open_reader  # loads pyarrow

        table = open_reader(self._t, ref, columns, filter).read_all()
        return table.to_pandas() if as_pandas else table

    def iter_batches(
        self,
        ref: str,
        *,
        columns: Sequence[str] | None = None,
        filter: str | None = None,
        batch_rows: int = 65_536,
    ) -> Iterator[pa.RecordBatch]:
        """A version's rows as Arrow record batches of at most ``batch_rows`` rows, read as
        they are consumed, in memory that does not grow with the version's size."""
        from shipyard.client._dataset_reads import iter_reader, open_reader

        return iter_reader(open_reader(self._t, ref, columns, filter, batch_rows))

    def export(
        self,
        ref: str,
        path: str | os.PathLike[str],
        *,
        format: str | None = None,
        columns: Sequence[str] | None = None,
        filter: str | None = None,
    ) -> ExportSummary:
        """Write a version to a CSV or Parquet file (``format``, else the file's extension),
        streamed; the file appears whole or not at all."""
        from shipyard.client._dataset_reads import export_format, export_reader, open_reader

        target = Path(path)
        chosen = export_format(target, format)
        return export_reader(open_reader(self._t, ref, columns, filter), target, chosen)


class Models(_Group):
    def register(
        self, name: str, run_id: str, *, client_token: str | None = None
    ) -> ModelVersionInfo:
        """Register the model a finished run produced as the next version of ``name``.

        Every call carries a client token (a new one unless given), so the call is retried
        when the connection fails or the server is briefly unavailable without making a
        second version; pass your own token to make your own retries safe as well.
        """
        token = client_token or uuid.uuid4().hex
        for attempt in range(_REGISTER_ATTEMPTS):
            try:
                return ModelVersionInfo.model_validate(
                    self._t.call("registry.register", name=name, run_id=run_id, client_token=token)
                )
            except (httpx.TransportError, StorageError):
                if attempt + 1 == _REGISTER_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def create(self, name: str, tags: dict[str, str] | None = None) -> ModelInfo:
        """Create the model ``name`` with no versions yet; ``tags`` are set at creation
        (which needs ``registry:TagResource`` too)."""
        args: dict[str, Any] = {"name": name}
        if tags:
            args["tags"] = tags
        return ModelInfo.model_validate(self._t.call("registry.create_model", **args))

    def list(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        name_contains: str | None = None,
    ) -> Listing[ModelInfo]:
        """Models by name (those whose name holds ``name_contains``, any case): every
        one, or with ``limit``/``page_token`` one page."""
        return fetch_listing(
            self._t,
            "registry.list_models",
            ModelInfo,
            limit,
            page_token,
            name_contains=name_contains,
        )

    def get(self, name: str) -> ModelInfo:
        return ModelInfo.model_validate(self._t.call("registry.get_model", name=name))

    def update(self, name: str, *, four_eyes: bool | None = None) -> ModelInfo:
        """Change a model's settings. ``four_eyes``: approving a version needs a principal
        other than whoever registered it, trained its run or registered its code."""
        args: dict[str, Any] = {"name": name}
        if four_eyes is not None:
            args["four_eyes"] = four_eyes
        return ModelInfo.model_validate(self._t.call("registry.update_model", **args))

    def card(self, name: str, version: int) -> ModelCard:
        """The version's model card (``.to_markdown()``, ``.to_html()``): approvals, training
        run and code digests, training data and its validation, evaluations, lineage."""
        found = self._t.call("registry.model_card", name=name, version=version)
        return ModelCard.model_validate(found)

    def version(self, ref: str) -> ModelVersionInfo:
        """``name@3``, ``name@champion`` or ``name`` (latest)."""
        return ModelVersionInfo.model_validate(self._t.call("registry.get_version", ref=ref))

    def set_approval(
        self, name: str, version: int, status: str, reason: str | None = None
    ) -> ModelVersionInfo:
        """Approve, reject or reset a version; ``reason`` (at most 1000 characters) is kept."""
        args: dict[str, Any] = {"name": name, "version": version, "status": status}
        if reason is not None:
            args["reason"] = reason
        return ModelVersionInfo.model_validate(self._t.call("registry.set_approval", **args))

    def approval_history(self, name: str, version: int) -> builtins.list[ApprovalDecision]:
        """Every approval decision on a version (status, reason, who, when), oldest first."""
        found = self._t.call("registry.approval_history", name=name, version=version)
        return [ApprovalDecision.model_validate(d) for d in found]

    def set_alias(self, name: str, alias: str, version: int) -> ModelVersionInfo:
        return ModelVersionInfo.model_validate(
            self._t.call("registry.set_alias", name=name, alias=alias, version=version)
        )

    def delete_alias(self, name: str, alias: str) -> ModelInfo:
        return ModelInfo.model_validate(
            self._t.call("registry.delete_alias", name=name, alias=alias)
        )

    def delete(self, ref: str, *, reason: str) -> DeletionInfo:
        """Delete ``name@version`` (or every version of ``name``); a tombstone stays in
        lineage. Refused while an endpoint serves the version."""
        parsed = parse_reference(ref, field="model")
        if parsed.alias is not None:
            raise InvalidInput("name a version number, not an alias", field="model")
        return DeletionInfo.model_validate(
            self._t.call(
                "registry.delete_version", name=parsed.name, version=parsed.version, reason=reason
            )
        )

    def lineage(self, ref: str, kind: str = "model") -> LineageGraph:
        """Upstream of a model version, or downstream of a dataset version or run."""
        return LineageGraph.model_validate(self._t.call("registry.lineage", kind=kind, ref=ref))
