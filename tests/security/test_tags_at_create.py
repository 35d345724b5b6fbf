"""Tags given at creation (models, experiments, datasets; endpoints and principals too):
set with the resource, authorized as the create and as tagging, and seen by conditions as
``sy:RequestTag/<key>`` and ``sy:TagKeys`` so a policy can require them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shipyard.client import Client
from shipyard.errors import AccessDenied, InvalidInput, NotFound
from shipyard.platform import Platform
from shipyard.registry import create_model, get_model
from shipyard.security import (
    RequestContext,
    attach_policy,
    context_for,
    create_principal,
    list_dataset_tags,
    list_experiment_tags,
    list_model_tags,
    put_policy,
)
from shipyard.tracking import create_experiment, get_experiment


def _csv(directory: Path) -> Path:
    path = directory / "small.csv"
    path.write_text("a,b\n1,x\n2,y\n")
    return path


def test_each_kind_takes_tags_at_creation(client: Client, tmp_path: Path) -> None:
    model = client.models.create("tagged-model", tags={"team": "ml"})
    assert model.name == "tagged-model"
    assert client.iam.tags("sy:model/tagged-model").tags == {"team": "ml"}
    client.tracking.create_experiment("tagged-exp", tags={"team": "ml", "stage": "dev"})
    assert client.iam.tags("sy:experiment/tagged-exp").tags == {"stage": "dev", "team": "ml"}
    client.datasets.ingest(_csv(tmp_path), "tagged-data", tags={"team": "ml", "pii": "no"})
    assert client.iam.tags("sy:dataset/tagged-data").tags == {"pii": "no", "team": "ml"}
    # no tags: nothing is set, and no tagging right is needed (see below)
    client.models.create("bare-model")
    assert client.iam.tags("sy:model/bare-model").tags == {}

    with pytest.raises(InvalidInput) as bad:
        client.models.create("badly-tagged", tags={"sy:owner": "me"})
    assert bad.value.field == "tags.sy:owner"
    with pytest.raises(NotFound):
        client.models.get("badly-tagged")
    with pytest.raises(InvalidInput) as bad_value:
        client.tracking.create_experiment("bad-exp", tags={"team": "<script>"})
    assert bad_value.value.field == "tags.team"
    assert "bad-exp" not in {e.name for e in client.tracking.list_experiments()}


CREATE_ACTIONS = [
    "registry:RegisterModel",
    "tracking:CreateExperiment",
    "datasets:Ingest",
]
TAG_ACTIONS = ["registry:TagResource", "tracking:TagResource", "datasets:TagResource"]


def _principal(platform: Platform, name: str, statements: list[dict[str, Any]]) -> RequestContext:
    admin = context_for(platform, "admin")
    put_policy(admin, f"{name}-policy", {"Statement": statements})
    create_principal(admin, name)
    attach_policy(admin, name, f"{name}-policy")
    return context_for(platform, name)


def _creators(tmp_path: Path) -> dict[str, Callable[..., Any]]:
    from shipyard.datasets import ingest

    data = _csv(tmp_path).read_bytes()
    return {
        "model": lambda ctx, name, tags: create_model(ctx, name, tags=tags),
        "experiment": lambda ctx, name, tags: create_experiment(ctx, name, tags=tags),
        "dataset": lambda ctx, name, tags: ingest(
            ctx,
            name,
            data,
            filename="small.csv",
            tags=[f"{k}={v}" for k, v in tags.items()] if tags else None,
        ),
    }


def _exists(platform: Platform, kind: str, name: str) -> bool:
    admin = context_for(platform, "admin")
    read = {
        "model": lambda: get_model(admin, name),
        "experiment": lambda: get_experiment(admin, name),
        "dataset": lambda: list_dataset_tags(admin, name),
    }[kind]
    try:
        read()
    except NotFound:
        return False
    return True


def test_a_policy_requiring_a_request_tag_refuses_an_untagged_create(
    platform: Platform, tmp_path: Path
) -> None:
    ctx = _principal(
        platform,
        "team-ml",
        [
            {
                "Effect": "Allow",
                "Action": [*CREATE_ACTIONS, *TAG_ACTIONS],
                "Resource": "*",
                "Condition": {"StringEquals": {"sy:RequestTag/team": "ml"}},
            }
        ],
    )
    for kind, create in _creators(tmp_path).items():
        with pytest.raises(AccessDenied):
            create(ctx, f"{kind}-untagged", None)
        assert not _exists(platform, kind, f"{kind}-untagged")
        with pytest.raises(AccessDenied):
            create(ctx, f"{kind}-ops", {"team": "ops"})
        assert not _exists(platform, kind, f"{kind}-ops")
        create(ctx, f"{kind}-ml", {"team": "ml"})
        assert _exists(platform, kind, f"{kind}-ml")

    admin = context_for(platform, "admin")
    assert list_model_tags(admin, "model-ml").tags == {"team": "ml"}
    assert list_experiment_tags(admin, "experiment-ml").tags == {"team": "ml"}
    assert list_dataset_tags(admin, "dataset-ml").tags == {"team": "ml"}


def test_tagging_at_creation_needs_the_tagging_right_too(
    platform: Platform, tmp_path: Path
) -> None:
    ctx = _principal(
        platform,
        "creator",
        [{"Effect": "Allow", "Action": CREATE_ACTIONS, "Resource": "*"}],
    )
    for kind, create in _creators(tmp_path).items():
        with pytest.raises(AccessDenied) as refused:
            create(ctx, f"{kind}-tagged", {"team": "ml"})
        assert "TagResource" in str(refused.value)
        assert not _exists(platform, kind, f"{kind}-tagged")
        create(ctx, f"{kind}-plain", None)
        assert _exists(platform, kind, f"{kind}-plain")


def test_tag_keys_condition_limits_the_keys_set_at_creation(platform: Platform) -> None:
    ctx = _principal(
        platform,
        "keys-only",
        [
            {
                "Effect": "Allow",
                "Action": ["registry:RegisterModel", "registry:TagResource"],
                "Resource": "*",
                "Condition": {"ForAllValues:StringEquals": {"sy:TagKeys": ["team", "stage"]}},
            }
        ],
    )
    assert create_model(ctx, "keyed", tags={"team": "ml", "stage": "dev"}).name == "keyed"
    with pytest.raises(AccessDenied):
        create_model(ctx, "over-keyed", tags={"team": "ml", "owner": "me"})
    assert not _exists(platform, "model", "over-keyed")


def test_a_malformed_dataset_tag_names_its_place(platform: Platform, tmp_path: Path) -> None:
    from shipyard.datasets import ingest

    admin = context_for(platform, "admin")
    with pytest.raises(InvalidInput) as bad:
        ingest(admin, "half", _csv(tmp_path).read_bytes(), tags=["team=ml", "no-equals"])
    assert bad.value.field == "tags.1"
    assert not _exists(platform, "dataset", "half")
