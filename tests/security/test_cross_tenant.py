"""The cross-resource leaks the catalog declarations close, as the attacker would try them.

Alice may do anything to ``alice-*`` resources; Bob's are explicitly denied to her. Each
call uses one of her resources to reach one of Bob's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.fixtures.lifecycle import ingest_breast_cancer, lightgbm_spec
from tests.streams.streamkit import record
from tests.streams.streamkit import spec as stream_spec

from shipyard.client import Client
from shipyard.config import Settings
from shipyard.errors import AccessDenied
from shipyard.platform import Platform
from shipyard.security import context_for
from shipyard.store.metadata import tables as t
from shipyard.streams import consume

ALICE_POLICY = {
    "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": ["sy:*/bob-*", "sy:run/bob-*"]},
    ]
}


@pytest.fixture
def admin(settings: Settings) -> Iterator[Client]:
    sdk = Client(settings=settings)
    yield sdk
    sdk.close()


@pytest.fixture
def alice(admin: Client, platform: Platform) -> str:
    admin.iam.create_principal("alice")
    admin.iam.put_policy("alice-policy", ALICE_POLICY)
    admin.iam.attach_policy("alice", "alice-policy")
    return "alice"


def _denials(platform: Platform, principal: str) -> list[tuple[str, str]]:
    with platform.db.session() as session:
        rows = session.execute(
            sa.select(t.AuditEvent.action, t.AuditEvent.resource)
            .where(t.AuditEvent.principal == principal, t.AuditEvent.outcome == "denied")
            .order_by(t.AuditEvent.id)
        ).all()
    return [(a, r) for a, r in rows]


def test_a_stream_cannot_write_into_someone_elses_dataset(
    admin: Client, alice: str, platform: Platform
) -> None:
    ctx = context_for(platform, alice)
    from shipyard.schemas.streams import StreamSpec
    from shipyard.streams import create_stream

    with pytest.raises(AccessDenied):
        create_stream(
            ctx, StreamSpec.model_validate(stream_spec("alice-clicks", dataset="bob-data"))
        )
    # a stream the admin pointed at Bob's dataset: consuming it as Alice writes nothing
    admin.streams.create(stream_spec("alice-feed", dataset="bob-data"))
    admin.streams.put("alice-feed", [record(1)])
    with pytest.raises(AccessDenied):
        consume(ctx, "alice-feed", idle_exit=0.2)
    assert ("datasets:Ingest", "sy:dataset/bob-data") in _denials(platform, alice)
    assert [d.name for d in admin.datasets.list()] == []


def test_an_alias_or_latest_does_not_escape_a_deny_on_the_version(
    admin: Client, platform: Platform, tmp_path: Path
) -> None:
    dataset = ingest_breast_cancer(admin, tmp_path)
    job = admin.training.train(lightgbm_spec(dataset), timeout=120)
    assert job.run_id is not None
    admin.models.register("bob-model", job.run_id)
    admin.models.set_alias("bob-model", "champion", 1)
    admin.iam.create_principal("carol")
    admin.iam.put_policy(
        "carol-policy",
        {
            "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": ["sy:model/bob-model/1", "sy:dataset/bc/1"],
                },
            ]
        },
    )
    admin.iam.attach_policy("carol", "carol-policy")
    ctx = context_for(platform, "carol")
    from shipyard.datasets import get_version, head
    from shipyard.endpoints import create_endpoint
    from shipyard.registry import get_model_version

    for ref in ("bob-model@champion", "bob-model", "bob-model@1"):
        with pytest.raises(AccessDenied):
            get_model_version(ctx, ref)
    with pytest.raises(AccessDenied):
        create_endpoint(ctx, "carol-ep", model="bob-model@champion")
    for call in (get_version, head):
        with pytest.raises(AccessDenied):
            call(ctx, "bc")
    assert admin.endpoints.list() == []
    assert set(_denials(platform, "carol")) >= {
        ("registry:GetModelVersion", "sy:model/bob-model/1"),
        ("datasets:GetDataset", "sy:dataset/bc/1"),
        ("datasets:ReadData", "sy:dataset/bc/1"),
    }
