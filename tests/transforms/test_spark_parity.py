"""The same SQL transform gives the same table on DuckDB and on Spark (pyspark, local mode)."""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from tests.conftest import service_unavailable

from shipyard import datasets, transforms
from shipyard.config import Settings
from shipyard.errors import InvalidInput
from shipyard.platform import Platform
from shipyard.security import bootstrap, context_for
from shipyard.transforms import TransformSpec

pytestmark = pytest.mark.spark

ORDERS = (
    "id,customer_id,amount,day,note\n"
    "1,1,10.5,2024-01-03,a\n2,1,20,2024-01-01,\n3,2,5,2024-02-10,b\n"
    "4,3,7.25,2024-03-01,c\n5,3,,2024-03-02,c\n6,4,1,2024-03-05,\n"
)
CUSTOMERS = "customer_id,name,tier\n1,Ann,gold\n2,Bob,silver\n3,Cid,gold\n"
SQL = """
SELECT c.tier,
       upper(c.name) AS name,
       count(*) AS orders,
       count(o.note) AS noted,
       sum(o.id) AS id_sum,
       sum(o.amount) AS amount,
       avg(o.amount) AS mean_amount,
       min(o.day) AS first_day,
       CASE WHEN sum(o.amount) > 10 THEN 'big' ELSE 'small' END AS size
FROM orders o
JOIN customers c ON o.customer_id = c.customer_id
GROUP BY c.tier, c.name
"""


@pytest.fixture(scope="session")
def spark_master() -> Iterator[str]:
    """One local Spark for the whole run: starting it is the slow part."""
    if shutil.which("java") is None:
        service_unavailable("the Spark engine needs Java on PATH")
    try:
        from shipyard.transforms._spark import spark_session, stop_spark_session
    except ImportError as error:
        service_unavailable(f"pyspark is not installed: {error}")
    try:
        spark_session("local[2]", fast_start=True)
    except InvalidInput as error:
        service_unavailable(str(error))
    yield "local[2]"
    stop_spark_session()


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return sorted(table.to_pylist(), key=lambda row: (row["tier"], row["name"]))


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12)
    return bool(a == b)


def test_duckdb_and_spark_give_the_same_table(tmp_path: Path, spark_master: str) -> None:
    settings = Settings(home=tmp_path / "home")
    platform = Platform.open(settings)
    bootstrap(platform)
    spark_platform = Platform(
        settings=settings.model_copy(
            update={"transform_engine": "spark", "spark_master": spark_master}
        ),
        db=platform.db,
        blobs=platform.blobs,
    )
    ctx = context_for(platform, "admin")
    (tmp_path / "orders.csv").write_text(ORDERS)
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    datasets.ingest(ctx, "orders", tmp_path / "orders.csv", partition_by="customer_id")
    datasets.ingest(ctx, "customers", tmp_path / "customers.csv")
    spec = TransformSpec(inputs={"orders": "orders", "customers": "customers"}, sql=SQL)
    transforms.apply_transform(ctx, "tiers", spec)

    on_duckdb = transforms.run_transform(ctx, "tiers")
    on_spark = transforms.run_transform(context_for(spark_platform, "admin"), "tiers", force=True)
    assert (on_duckdb.engine, on_spark.engine) == ("duckdb", "spark")
    assert on_duckdb.output_rows == on_spark.output_rows == 3

    with platform.db.session() as session:
        duck_row = datasets.find_version(session, "tiers", int(on_duckdb.output.split("@")[1]))
        spark_row = datasets.find_version(session, "tiers", int(on_spark.output.split("@")[1]))
    duck = datasets.load_version_table(platform, duck_row)
    spark = datasets.load_version_table(platform, spark_row)
    assert duck.schema.equals(spark.schema), (duck.schema, spark.schema)
    assert [f.type for f in duck.schema] == [
        pa.string(),
        pa.string(),
        pa.int64(),
        pa.int64(),
        pa.int64(),
        pa.float64(),
        pa.float64(),
        pa.date32(),
        pa.string(),
    ]
    duck_rows, spark_rows = _rows(duck), _rows(spark)
    assert duck_rows[0] == {
        "tier": "gold",
        "name": "ANN",
        "orders": 2,
        "noted": 1,
        "id_sum": 3,
        "amount": 30.5,
        "mean_amount": 15.25,
        "first_day": duck_rows[0]["first_day"],
        "size": "big",
    }
    for want, got in zip(duck_rows, spark_rows, strict=True):
        assert all(_close(want[k], got[k]) for k in want), (want, got)

    spark_ctx = context_for(spark_platform, "admin")
    transforms.apply_transform(
        ctx, "broken", TransformSpec(inputs={"orders": "orders"}, sql="SELECT nope FROM orders")
    )
    with pytest.raises(InvalidInput) as caught:
        transforms.run_transform(spark_ctx, "broken")
    assert caught.value.field == "sql" and "nope" in caught.value.message
    assert [v.name for v in datasets.list_datasets(ctx).items] == ["customers", "orders", "tiers"]
    platform.close()
