"""Gated ingest reads the file in batches, and records its versions and reports all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from shipyard import contracts, datasets
from shipyard.contracts import _gate as gate
from shipyard.datasets import _file_batches as file_batches
from shipyard.errors import InvalidInput
from shipyard.platform import Platform
from shipyard.security import RequestContext, context_for
from shipyard.store.metadata import contract_tables as ct

ROWS = 5_000
BAD_COUNTRY = [0, 997, 1994, 2991, 3988, 4985]
CONTRACT = {
    "name": "orders",
    "columns": {
        "id": {"unique": True},
        "amount": {"range": {"min": 0}},
        "country": {"allowed_values": ["DE", "FR", "US"]},
    },
}


@pytest.fixture
def ctx(platform: Platform) -> RequestContext:
    context = context_for(platform, "admin")
    contracts.apply(context, CONTRACT)
    return context


def _orders(path: Path) -> Path:
    ids = np.arange(ROWS)
    ids[-1] = 10
    amount = (np.arange(ROWS) % 90 + 5).astype(float)
    amount[2500] = -1.0
    country = np.array(["DE", "FR", "US"], dtype=object)[np.arange(ROWS) % 3]
    country[BAD_COUNTRY] = "XX"
    table = pa.table({"id": ids, "amount": amount, "country": country})
    pq.write_table(table, path, row_group_size=1_000)
    return path


@pytest.fixture
def batch_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every batch the Parquet reader hands out, with batches of at most 700 rows."""
    seen: list[int] = []
    real = file_batches._parquet_batches

    def counted(path: Path | bytes) -> Iterator[pa.RecordBatch]:
        for batch in real(path):
            seen.append(batch.num_rows)
            yield batch

    monkeypatch.setattr(file_batches, "PARQUET_BATCH_ROWS", 700)
    monkeypatch.setattr(file_batches, "_parquet_batches", counted)
    return seen


def _rows(ctx: RequestContext, ref: str) -> dict[str, list[Any]]:
    name, version = ref.split("@")
    with ctx.platform.db.session() as session:
        row = datasets.find_version(session, name, int(version))
    return datasets.load_version_table(ctx.platform, row).to_pydict()


def _reports(ctx: RequestContext) -> int:
    with ctx.platform.db.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(ct.DataValidation)) or 0


def test_quarantine_streams_the_file_in_batches(
    ctx: RequestContext, tmp_path: Path, batch_sizes: list[int]
) -> None:
    path = _orders(tmp_path / "orders.parquet")
    with pytest.raises(InvalidInput, match=r"country\.allowed_values \(6 rows\)"):
        gate.ingest(ctx, "orders", path, "orders", on_fail="reject")
    assert datasets.list_datasets(ctx).items == [] and _reports(ctx) == 0
    assert max(batch_sizes) <= 700 and sum(batch_sizes) == ROWS

    batch_sizes.clear()
    outcome = gate.ingest(ctx, "orders", path, "orders", on_fail="quarantine")
    # Two passes (validate, then write), each in batches of at most 700 rows.
    assert max(batch_sizes) <= 700 and sum(batch_sizes) == 2 * ROWS
    assert len(batch_sizes) >= 2 * (ROWS // 700)
    assert outcome.dataset is not None and outcome.quarantine is not None
    assert (outcome.dataset.ref, outcome.dataset.rows) == ("orders@1", ROWS - 9)
    assert (outcome.quarantine.ref, outcome.quarantine.rows) == ("orders-quarantine@1", 9)
    bad = _rows(ctx, "orders-quarantine@1")
    reasons = dict(zip(bad["id"], bad["_reasons"], strict=True))
    assert reasons == {
        **{i: "country.allowed_values" for i in BAD_COUNTRY},
        2500: "amount.range",
        10: "id.unique",
    }
    assert sorted(bad["id"]).count(10) == 2
    good = _rows(ctx, "orders@1")
    assert len(set(good["id"])) == ROWS - 9 and min(good["amount"]) >= 0
    statuses = {r.dataset: r.status for r in contracts.list_validations(ctx, "orders")}
    assert statuses == {"orders@1": "passed"}
    assert outcome.report.status == "failed"
    assert outcome.report.dataset == "orders-quarantine@1"
    assert outcome.report.rows == ROWS


def test_csv_types_settled_by_the_first_pass_hold_in_the_second(
    ctx: RequestContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(file_batches, "BLOCK_BYTES", 2_048)
    lines = ["id,amount,country"]
    lines += [f"{i},{i % 50},{'XX' if i == 2_900 else 'DE'}" for i in range(3_000)]
    lines[-1] = "2999,2.5,FR"  # a float in a block long after the first: the read widens
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines) + "\n")

    outcome = gate.ingest(ctx, "orders", path, "orders", on_fail="quarantine")
    assert outcome.dataset is not None and outcome.quarantine is not None
    assert (outcome.dataset.rows, outcome.quarantine.rows) == (2_999, 1)
    for info in (outcome.dataset, outcome.quarantine):
        types = {c["name"]: c["arrow_type"] for c in info.columns}
        assert types["amount"] == "double"
    assert _rows(ctx, outcome.dataset.ref)["amount"][-1] == 2.5
    assert _rows(ctx, outcome.quarantine.ref)["id"] == [2_900]

    warned = gate.ingest(ctx, "orders", path.read_bytes(), "orders", "warn", "orders.csv")
    assert (warned.outcome, warned.dataset and warned.dataset.rows) == (
        "stored_with_failures",
        3_000,
    )


def test_quarantine_records_both_versions_and_reports_or_nothing(
    ctx: RequestContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _orders(tmp_path / "orders.parquet")
    real = gate.register_staged

    def dies_on_the_clean_version(*args: Any) -> datasets.DatasetVersionInfo:
        if args[3] == "orders":
            raise OSError("the disk filled up")  # stands for a crash mid-transaction
        return real(*args)

    monkeypatch.setattr(gate, "register_staged", dies_on_the_clean_version)
    with pytest.raises(OSError, match="disk filled up"):
        gate.ingest(ctx, "orders", path, "orders", on_fail="quarantine")
    assert datasets.list_datasets(ctx).items == [] and _reports(ctx) == 0

    monkeypatch.setattr(gate, "register_staged", real)
    outcome = gate.ingest(ctx, "orders", path, "orders", on_fail="quarantine")
    assert outcome.dataset is not None and outcome.quarantine is not None
    assert [d.name for d in datasets.list_datasets(ctx).items] == ["orders", "orders-quarantine"]
    assert _reports(ctx) == 2


def test_files_with_nothing_to_store_are_refused(ctx: RequestContext, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    header = tmp_path / "header.csv"
    header.write_text("id,amount,country\n")
    with pytest.raises(InvalidInput, match="file is empty") as caught:
        gate.ingest(ctx, "orders", empty, "orders")
    assert caught.value.field == "file"
    with pytest.raises(InvalidInput, match="no rows") as caught:
        gate.ingest(ctx, "orders", header, "orders", on_fail="warn")
    assert caught.value.field == "file"
    assert datasets.list_datasets(ctx).items == []
