"""Endpoint enrichment: the enricher against both online stores, and bindings end to end."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.fixtures.lifecycle import train_and_register

from shipyard.client import Client, LocalTransport
from shipyard.config import Settings
from shipyard.errors import InvalidInput, NotFound
from shipyard.features import EndpointFeatures, FeatureEnricher, FeatureSource
from shipyard.features.online import OnlineBatch, OnlineRecord, OnlineStore
from shipyard.names import parse_reference
from shipyard.registry import load_version_predictor, resolve


class CountingStore(OnlineStore):
    """A real store underneath; counts the batched reads the enricher makes."""

    def __init__(self, inner: OnlineStore) -> None:
        self.inner = inner
        self.reads = 0

    def write(self, view: str, batch: OnlineBatch) -> int:
        return self.inner.write(view, batch)

    def read(
        self, requests: Sequence[tuple[str, Sequence[str]]]
    ) -> list[list[OnlineRecord | None]]:
        self.reads += 1
        return self.inner.read(requests)

    def delete_view(self, view: str) -> int:
        return self.inner.delete_view(view)

    def close(self) -> None:
        self.inner.close()


CONFIG = EndpointFeatures(
    endpoint="fraud",
    sources=[
        FeatureSource(
            view="drivers",
            features={"rate": "driver_rate", "trips": "trips"},
            entities={"driver_id": "driver"},
            keys=["driver_id"],
            key_types={"driver_id": "integer"},
        ),
        FeatureSource(
            view="customers",
            features={"spend": "spend"},
            keys=["customer"],
            key_types={"customer": "string"},
        ),
    ],
)


def test_enricher_fills_bound_inputs_with_one_read(online_store: OnlineStore) -> None:
    online_store.write(
        "drivers",
        OnlineBatch(["1", "2"], [1, 1], ['{"rate": 0.5, "trips": 3}', '{"rate": 0.9, "trips": 8}']),
    )
    online_store.write("customers", OnlineBatch(["c1"], [1], ['{"spend": 12.5}']))
    store = CountingStore(online_store)
    enricher = FeatureEnricher(CONFIG, store)
    assert enricher.inputs == ("driver_rate", "trips", "spend")
    rows = [
        {"driver": 2, "customer": "c1", "amount": 10.0, "trips": 999},
        {"driver": "1", "customer": "c2", "amount": 20.0},
        {"driver": 7, "customer": "c1", "amount": 30.0},
    ]
    enriched = enricher.enrich(rows)
    assert store.reads == 1
    assert enriched == [
        {"amount": 10.0, "driver_rate": 0.9, "trips": 8, "spend": 12.5},
        {"amount": 20.0, "driver_rate": 0.5, "trips": 3, "spend": None},
        {"amount": 30.0, "driver_rate": None, "trips": None, "spend": 12.5},
    ]
    columns = enricher.enrich_columns(
        {"driver": [2, "1", 7], "customer": ["c1", "c2", "c1"], "amount": [10.0, 20.0, 30.0]}
    )
    assert store.reads == 2
    assert columns == {
        "amount": [10.0, 20.0, 30.0],
        "driver_rate": [0.9, 0.5, None],
        "trips": [8, 3, None],
        "spend": [12.5, None, 12.5],
    }
    assert enricher.enrich([]) == []
    with pytest.raises(InvalidInput) as caught:
        enricher.enrich([{"driver": 1}])
    assert caught.value.field == "customer"
    with pytest.raises(InvalidInput) as caught:
        enricher.enrich([{"driver": "one", "customer": "c1"}])
    assert caught.value.field == "driver"
    keeping = FeatureEnricher(CONFIG.model_copy(update={"keep_entity_keys": True}), online_store)
    assert keeping.enrich([{"driver": 1, "customer": "c1"}]) == [
        {"driver": 1, "customer": "c1", "driver_rate": 0.5, "trips": 3, "spend": 12.5}
    ]


BOUND = ["mean_radius", "mean_texture", "worst_area"]


def test_endpoint_binding_end_to_end(tmp_path: Path, redis_url: str) -> None:
    """Train, serve-side enrich from Redis, and predict exactly as on the full rows."""
    settings = Settings(home=tmp_path / "home", online_store_url=redis_url)
    with Client(settings=settings) as client:
        train_and_register(client, tmp_path)
        client.endpoints.create("bc-endpoint", model="bc-model@1")
        frame = pd.read_csv(tmp_path / "breast_cancer.csv").drop(columns=["diagnosis"])
        frame.insert(0, "patient_id", np.arange(len(frame)))
        source = pa.table(
            {
                "patient_id": frame["patient_id"],
                "measured": pa.array([datetime(2024, 1, 1)] * len(frame), pa.timestamp("us")),
                **{c: frame[c] for c in BOUND},
            }
        )
        pq.write_table(source, tmp_path / "patients.parquet")
        client.datasets.ingest(tmp_path / "patients.parquet", "patients")
        client.features.apply(
            [
                {
                    "name": "patient_scan",
                    "source": "patients",
                    "entities": ["patient_id"],
                    "event_time": "measured",
                    "features": BOUND,
                }
            ]
        )
        assert client.features.materialize("patient_scan").rows == len(frame)
        with pytest.raises(InvalidInput, match="not inputs of the endpoint's model"):
            client.features.bind_endpoint(
                "bc-endpoint", [{"view": "patient_scan", "features": {"mean_radius": "radius"}}]
            )
        with pytest.raises(InvalidInput, match="no feature 'age'"):
            client.features.bind_endpoint(
                "bc-endpoint", [{"view": "patient_scan", "features": ["age"]}]
            )
        with pytest.raises(NotFound):
            client.features.bind_endpoint("nowhere", [{"view": "patient_scan", "features": BOUND}])
        binding = client.features.bind_endpoint(
            "bc-endpoint", [{"view": "patient_scan", "features": BOUND}]
        )
        assert binding.inputs == BOUND
        assert client.features.endpoint_binding("bc-endpoint").sources[0].key_types == {
            "patient_id": "integer"
        }
        assert isinstance(client.transport, LocalTransport)
        platform = client.transport.platform
        enricher = FeatureEnricher.for_endpoint(platform, "bc-endpoint")
        assert enricher is not None
        requests = frame.drop(columns=BOUND).to_dict("records")
        enriched = pd.DataFrame(enricher.enrich(requests))
        enricher.close()
        with platform.db.session() as session:
            _, version = resolve(session, parse_reference("bc-model@1"))
        predictor = load_version_predictor(platform, version)
        inputs = predictor.signature.input_names
        expected = predictor.predict(frame[inputs]).predictions
        assert list(predictor.predict(enriched[inputs]).predictions) == list(expected)
        client.features.unbind_endpoint("bc-endpoint")
        with pytest.raises(NotFound):
            client.features.endpoint_binding("bc-endpoint")
        assert FeatureEnricher.for_endpoint(platform, "bc-endpoint") is None
        client.features.bind_endpoint("bc-endpoint", [{"view": "patient_scan", "features": BOUND}])
        client.endpoints.delete("bc-endpoint")
        client.endpoints.create("bc-endpoint", model="bc-model@1")
        with pytest.raises(NotFound):  # a new endpoint of the same name starts unbound
            client.features.endpoint_binding("bc-endpoint")
