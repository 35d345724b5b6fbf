"""The SDK's datasets group; each method is one catalog operation."""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

from shipyard.client._group import _Group
from shipyard.client._paging import Listing, fetch_listing
from shipyard.errors import InvalidInput
from shipyard.names import check_name, parse_reference
from shipyard.schemas.datasets import (
    DatasetInfo,
    DatasetVersionInfo,
    DeletionInfo,
    ErasureInfo,
    TablePreview,
)

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from shipyard.client._dataset_reads import ExportSummary


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
