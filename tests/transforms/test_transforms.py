"""SQL and Python transforms through the SDK and the services: caching, errors, lineage."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard import datasets, security, transforms
from shipyard.client import Client
from shipyard.errors import AccessDenied, InvalidInput, NotFound
from shipyard.operations import BY_NAME
from shipyard.platform import Platform
from shipyard.security import RequestContext, context_for
from shipyard.transforms import TransformSpec

ORDERS = "id,customer_id,amount,country\n1,1,10.5,FR\n2,1,20,FR\n3,2,5,NO\n4,3,7.5,IT\n"
CUSTOMERS = "customer_id,name\n1,Ann\n2,Bob\n3,Cid\n"
TOTALS_SQL = """
SELECT c.name, sum(o.amount) AS total, count(*) AS orders, sum(o.id) AS ids
FROM orders o JOIN customers c USING (customer_id)
GROUP BY c.name
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def totals_yaml(tmp_path: Path, sql: str = TOTALS_SQL) -> Path:
    indented = "\n".join("  " + line for line in sql.strip().splitlines())
    return write(
        tmp_path,
        "totals.yaml",
        f"name: totals\ninputs:\n  orders: orders\n  customers: customers@1\nsql: |\n{indented}\n",
    )


def by_name(client: Client, ref: str) -> dict[str, dict[str, object]]:
    return {row["name"]: row for row in client.datasets.head(ref, rows=100).rows}  # type: ignore[misc]


def test_sql_transform_caches_and_reruns_on_change(client: Client, tmp_path: Path) -> None:
    client.datasets.ingest(write(tmp_path, "orders.csv", ORDERS), "orders")
    client.datasets.ingest(write(tmp_path, "customers.csv", CUSTOMERS), "customers")
    applied = client.transforms.apply(totals_yaml(tmp_path))
    assert (applied.ref, applied.kind, applied.created) == ("totals@1", "sql", True)
    assert applied.output_dataset == "totals"

    first = client.transforms.run("totals")
    assert (first.cached, first.engine, first.output, first.output_rows) == (
        False,
        "duckdb",
        "totals@1",
        3,
    )
    assert first.inputs == {"customers": "customers@1", "orders": "orders@1"}
    rows = by_name(client, "totals@1")
    assert rows["Ann"] == {"name": "Ann", "total": 30.5, "orders": 2, "ids": 3}
    columns = {c["name"]: c["arrow_type"] for c in client.datasets.get("totals@1").columns}
    assert columns == {"name": "string", "total": "double", "orders": "int64", "ids": "int64"}

    cached = client.transforms.run("totals")
    assert (cached.cached, cached.id, cached.output) == (True, first.id, "totals@1")
    assert client.transforms.apply(totals_yaml(tmp_path)).created is False

    client.datasets.ingest(write(tmp_path, "more.csv", ORDERS + "5,2,1.5,NO\n"), "orders")
    changed_input = client.transforms.run("totals")
    assert (changed_input.cached, changed_input.output) == (False, "totals@2")
    assert changed_input.inputs["orders"] == "orders@2"
    assert by_name(client, "totals@2")["Bob"]["total"] == 6.5

    edited = client.transforms.apply(
        totals_yaml(tmp_path, TOTALS_SQL.replace("sum(o.id)", "max(o.id)"))
    )
    assert (edited.version, edited.created) == (2, True)
    changed_code = client.transforms.run("totals")
    assert (changed_code.cached, changed_code.version, changed_code.output) == (
        False,
        2,
        "totals@3",
    )
    forced = client.transforms.run("totals@2", force=True)
    assert (forced.cached, forced.output) == (False, "totals@3")
    assert len(client.transforms.runs("totals")) == 4
    assert [(t.name, t.latest_version, t.runs) for t in client.transforms.list()] == [
        ("totals", 2, 4)
    ]

    upstream = client.transforms.lineage("totals@3")
    assert sorted(upstream.edges) == [
        ("dataset:customers@1", "transform:totals@2"),
        ("dataset:orders@2", "transform:totals@2"),
        ("transform:totals@2", "dataset:totals@3"),
    ]
    downstream = client.transforms.lineage("orders@2", "downstream")
    assert {b for a, b in downstream.edges if a.startswith("transform:")} == {
        "dataset:totals@2",
        "dataset:totals@3",
    }


@pytest.fixture
def ctx(platform: Platform, tmp_path: Path) -> RequestContext:
    admin = context_for(platform, "admin")
    datasets.ingest(admin, "orders", write(tmp_path, "orders.csv", ORDERS))
    datasets.ingest(admin, "customers", write(tmp_path, "customers.csv", CUSTOMERS))
    return admin


def _sql(sql: str, **inputs: str) -> TransformSpec:
    return TransformSpec(inputs=inputs or {"orders": "orders"}, sql=sql)


def _nothing_written(ctx: RequestContext) -> None:
    assert [d.name for d in datasets.list_datasets(ctx).items] == ["customers", "orders"]
    assert all(t.runs == 0 for t in transforms.list_transforms(ctx))


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT * FORM orders", 'syntax error at or near "orders"'),
        ("SELECT 1; SELECT 2", "expected one SELECT statement, found 2"),
        ("COPY orders TO 'x.csv'", "expected a SELECT statement, found COPY"),
    ],
)
def test_bad_sql_is_refused_when_applied(ctx: RequestContext, sql: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        transforms.apply_transform(ctx, "bad", _sql(sql))
    assert caught.value.field == "sql"
    assert message in caught.value.message
    assert transforms.list_transforms(ctx) == []


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT nope\nFROM orders", 'Referenced column "nope" not found'),
        ("SELECT id,\n  amount / 'a' AS x\nFROM orders", "LINE 2"),
        ("SELECT * FROM read_csv('/etc/passwd')", "file system operations are disabled"),
        ("SELECT * FROM customers", "Table with name customers does not exist"),
    ],
)
def test_sql_errors_at_run_time_write_nothing(ctx: RequestContext, sql: str, message: str) -> None:
    transforms.apply_transform(ctx, "bad", _sql(sql))
    with pytest.raises(InvalidInput) as caught:
        transforms.run_transform(ctx, "bad")
    assert caught.value.field == "sql"
    assert message in caught.value.message
    _nothing_written(ctx)


def test_missing_inputs_and_bad_specs(ctx: RequestContext) -> None:
    transforms.apply_transform(ctx, "t", _sql("SELECT * FROM o", o="nothing"))
    with pytest.raises(NotFound) as missing:
        transforms.run_transform(ctx, "t")
    assert missing.value.field == "inputs.o" and "'nothing' does not exist" in str(missing.value)
    transforms.apply_transform(ctx, "t", _sql("SELECT * FROM o", o="orders@9"))
    with pytest.raises(NotFound) as no_version:
        transforms.run_transform(ctx, "t")
    assert no_version.value.field == "inputs.o"
    with pytest.raises(NotFound):
        transforms.run_transform(ctx, "unknown")
    with pytest.raises(InvalidInput) as feeds_itself:
        transforms.apply_transform(ctx, "orders", _sql("SELECT * FROM orders"))
    assert feeds_itself.value.field == "output.dataset"
    apply = BY_NAME["transforms.apply"]
    with pytest.raises(InvalidInput) as bad_alias:
        apply.invoke(ctx, {"name": "t", "spec": {"inputs": {"a-b": "orders"}, "sql": "SELECT 1"}})
    assert bad_alias.value.field == "spec.inputs" and "must be an identifier" in str(
        bad_alias.value
    )
    with pytest.raises(InvalidInput) as both:
        apply.invoke(ctx, {"name": "t", "spec": {"inputs": {"o": "orders"}}})
    assert "exactly one of 'sql' and 'python'" in str(both.value)
    with pytest.raises(InvalidInput) as alias:
        transforms.apply_transform(ctx, "t", _sql("SELECT 1", o="orders@latest"))
    assert alias.value.field == "inputs.o"
    _nothing_written(ctx)


def test_partitioned_output_and_bad_partition_column(ctx: RequestContext) -> None:
    spec = TransformSpec.model_validate(
        {
            "inputs": {"orders": "orders"},
            "sql": "SELECT country, sum(amount) AS total FROM orders GROUP BY country",
            "output": {"dataset": "by_country", "partition_by": ["country"]},
        }
    )
    transforms.apply_transform(ctx, "by-country", spec)
    run = transforms.run_transform(ctx, "by-country")
    assert (run.output, run.output_rows) == ("by_country@1", 3)
    output = datasets.get_version(ctx, "by_country", 1)
    assert output.profile["partitioning"] == {"columns": ["country"], "partitions": 3}

    spec.output.partition_by = ["continent"]
    transforms.apply_transform(ctx, "by-country", spec)
    with pytest.raises(InvalidInput) as caught:
        transforms.run_transform(ctx, "by-country")
    assert caught.value.field == "output.partition_by"
    assert [v.version for v in datasets.list_versions(ctx, "by_country")] == [1]


ENRICH = """\
import pyarrow as pa
import pyarrow.compute as pc


def double(orders: pa.Table, customers: pa.Table) -> pa.Table:
    joined = orders.join(customers, "customer_id")
    return joined.append_column("double", pc.multiply(joined["amount"], {factor}))


def broken(orders, customers):
    raise ValueError("no good")
"""


def test_python_transform_in_a_worker_process(ctx: RequestContext) -> None:
    spec = TransformSpec.model_validate(
        {
            "inputs": {"orders": "orders", "customers": "customers"},
            "python": {"entrypoint": "enrich:double", "file": "enrich.py"},
        }
    )
    version = transforms.apply_transform(ctx, "doubled", spec, ENRICH.format(factor=2))
    assert version.kind == "python" and version.source_digest is not None
    run = transforms.run_transform(ctx, "doubled")
    assert (run.engine, run.output, run.output_rows) == ("python", "doubled@1", 4)
    table = datasets.load_version_table(ctx.platform, _row(ctx, "doubled", 1))
    assert sorted(table.column("double").to_pylist()) == [10.0, 15.0, 21.0, 40.0]
    assert transforms.run_transform(ctx, "doubled").cached

    assert transforms.apply_transform(ctx, "doubled", spec, ENRICH.format(factor=3)).version == 2
    rerun = transforms.run_transform(ctx, "doubled")
    assert (rerun.cached, rerun.output) == (False, "doubled@2")

    spec.python.entrypoint = "enrich:broken"  # type: ignore[union-attr]
    transforms.apply_transform(ctx, "doubled", spec, ENRICH.format(factor=3))
    with pytest.raises(InvalidInput) as caught:
        transforms.run_transform(ctx, "doubled")
    assert caught.value.field == "python"
    assert "ValueError: no good (enrich.py line 11)" in caught.value.message

    spec.python.entrypoint = "enrich:missing"  # type: ignore[union-attr]
    with pytest.raises(InvalidInput) as missing:
        transforms.apply_transform(ctx, "doubled", spec, ENRICH)
    assert missing.value.field == "python.entrypoint"
    with pytest.raises(InvalidInput) as syntax:
        transforms.apply_transform(ctx, "doubled", spec, "def missing(:\n")
    assert syntax.value.field == "source" and "line 1" in syntax.value.message
    assert [v.version for v in datasets.list_versions(ctx, "doubled")] == [1, 2]


def _row(ctx: RequestContext, name: str, version: int) -> object:
    with ctx.platform.db.session() as session:
        return datasets.find_version(session, name, version)


def test_running_needs_access_to_the_datasets(ctx: RequestContext) -> None:
    transforms.apply_transform(ctx, "totals", _sql("SELECT count(*) AS n FROM orders"))
    security.create_principal(ctx, "runner")
    security.put_policy(
        ctx,
        "TransformsOnly",
        {"Statement": [{"Effect": "Allow", "Action": "transforms:*", "Resource": "*"}]},
    )
    security.attach_policy(ctx, "runner", "TransformsOnly")
    runner = context_for(ctx.platform, "runner")
    with pytest.raises(AccessDenied, match="datasets:ReadData"):
        transforms.run_transform(runner, "totals")
    _nothing_written(ctx)
