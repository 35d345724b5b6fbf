"""The authorization battery: every catalog operation, every resource it declares, over REST.

For each operation the catalog holds, a call with real arguments against a small world
(datasets, a trained and registered model, endpoints, contracts, transforms, feature
views, streams, jobs and exports) is made by principals whose policies differ only in
one declared access:

- "deny": allowed everything, with an explicit Deny on that one resource (once per name
  the resource has, e.g. ``sy:model/m/1`` and ``sy:model/m``);
- "allow-list": allowed exactly the operation's other declared accesses.

Each must be refused with 403, leave the metadata database and the stored files as they
were, and have its denial audited with the refused resource. A positive control, allowed
exactly the declared accesses, must get through. The cases come from the catalog: an
operation without a case here fails ``test_every_operation_has_a_case``.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from tests.conftest import LiveServer
from tests.fixtures.lifecycle import lightgbm_spec
from tests.flavors import modelkit

from shipyard import errors
from shipyard.api import create_app
from shipyard.cli._quickstart import write_breast_cancer_csv
from shipyard.client import HttpTransport
from shipyard.config import Settings
from shipyard.flavors import save_for_logging
from shipyard.operations import BY_NAME, OPERATIONS
from shipyard.platform import Platform
from shipyard.security import ADMIN, Access, bootstrap, context_for
from shipyard.store.metadata import tables as t

Args = dict[str, Any]


@dataclass
class World:
    """The resources every case names, created once by the admin through the catalog."""

    platform: Platform
    url: str
    home: Path
    csv: bytes
    values: dict[str, Any] = field(default_factory=dict)
    counter: Iterator[int] = field(default_factory=itertools.count)

    def call(self, operation: str, **arguments: Any) -> Any:
        ctx = context_for(self.platform, ADMIN)
        return BY_NAME[operation].invoke(ctx, arguments)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def _wait_for_jobs(platform: Platform, timeout: float = 180) -> None:
    """Until every training and batch job has ended (their workers write state)."""
    from shipyard.jobs import FINAL_STATUSES
    from shipyard.store.metadata import job_tables as j

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with platform.db.session() as session:
            busy = session.scalar(
                sa.select(sa.func.count()).where(j.Job.status.not_in(FINAL_STATUSES))
            )
        if not busy:
            return
        time.sleep(0.05)
    raise AssertionError("jobs did not end")


def _feature_tables(directory: Path) -> dict[str, bytes]:
    stamp = pa.timestamp("us")
    tables = {
        "drivers": pa.table(
            {
                "driver_id": [1, 1, 2],
                "ts": pa.array(
                    [1_700_000_000_000_000, 1_700_000_100_000_000, 1_700_000_000_000_000], stamp
                ),
                "rate": [1.0, 2.0, 3.0],
                "trips": [5, 6, 7],
            }
        ),
        "trips": pa.table(
            {
                "driver_id": [1, 2],
                "event_timestamp": pa.array([1_700_000_200_000_000] * 2, stamp),
            }
        ),
    }
    found = {}
    for name, table in tables.items():
        path = directory / f"{name}.parquet"
        pq.write_table(table, path)
        found[name] = path.read_bytes()
    return found


def _stream_spec(name: str, dataset: str) -> dict[str, Any]:
    return {
        "name": name,
        "schema": {"id": "string", "x": "float"},
        "id_field": "id",
        "dataset": dataset,
    }


def _view_spec(source: str = "drivers") -> dict[str, Any]:
    return {
        "source": source,
        "entities": ["driver_id"],
        "event_time": "ts",
        "features": ["rate", "trips"],
    }


def _transform_spec(output: str) -> dict[str, Any]:
    return {
        "inputs": {"bc": "bc"},
        "sql": "select * from bc limit 5",
        "output": {"dataset": output},
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("battery") / "home"
    settings = Settings(home=home, key_cache_seconds=0.2)
    platform = Platform.open(settings)
    bootstrap(platform)
    live = LiveServer(create_app(platform))
    csv_path = write_breast_cancer_csv(home.parent / "bc.csv")
    w = World(platform, live.url, home, csv_path.read_bytes())
    try:
        _build(w)
        yield w
    finally:
        _wait_for_jobs(platform)
        live.close()
        platform.close()


def _code_model_run(w: World) -> str:
    """A finished run holding a code model (registering it needs registry:RegisterCode)."""
    saved = save_for_logging(
        modelkit.code_model(), input_example=modelkit.table()[0].head(), task="regression"
    )
    run_id: str = w.call("tracking.create_run", experiment="exp").id
    for path, data in saved.artifacts():
        w.call("tracking.log_artifact", run_id=run_id, path=path, content=data)
    w.call("tracking.end_run", run_id=run_id)
    return run_id


def _tuning_spec(**extra: Any) -> dict[str, Any]:
    return {
        "training": lightgbm_spec("bc@1", experiment="exp"),
        "objective": {"metric": "roc_auc"},
        "max_trials": 1,
        "search_space": {"n_estimators": {"type": "int", "low": 5, "high": 10}},
        **extra,
    }


def _pipeline_spec(name: str) -> dict[str, Any]:
    """Reads bc@1 and would deploy m@1 to ep-pl, behind a condition that holds back."""
    return {
        "name": name,
        "steps": [
            {"name": "data", "kind": "ingest", "with": {"from": "bc@1"}},
            {"name": "gate", "kind": "condition", "with": {"if": False, "then": ["ship"]}},
            {
                "name": "ship",
                "kind": "deploy",
                "with": {"endpoint": "ep-pl", "model": "m@1", "strategy": "all-at-once"},
            },
        ],
    }


def _build(w: World) -> None:
    v = w.values
    w.call("datasets.ingest", name="bc", content=w.csv, filename="bc.csv")
    for name, data in _feature_tables(w.home.parent).items():
        w.call("datasets.ingest", name=name, content=data, filename=f"{name}.parquet")
    for number, name in enumerate(("del-ds", "erase-ds")):  # contents of their own
        rows = pa.table({"id": [1, 2, 3], "x": [number, 0.5, 1.5]})
        path = w.home.parent / f"{name}.parquet"
        pq.write_table(rows, path)
        w.call("datasets.ingest", name=name, content=path.read_bytes(), filename=path.name)
    job = w.call("training.create_job", spec=lightgbm_spec("bc@1", experiment="exp"))
    _wait_for_jobs(w.platform)
    v["job"] = job.id
    v["tuning"] = w.call("tuning.create_job", spec=_tuning_spec()).id
    _wait_for_jobs(w.platform)
    v["run"] = w.call("training.get_job", job_id=job.id).run_id
    assert v["run"] is not None
    for model in ("m", "m2"):
        w.call("registry.register", name=model, run_id=v["run"])
        w.call("registry.set_approval", name=model, version=1, status="Approved")
    w.call("registry.register", name="m-del", run_id=v["run"])
    w.call("registry.set_alias", name="m", alias="champion", version=1)
    w.call("registry.set_alias", name="m", alias="old", version=1)
    v["code_run"] = _code_model_run(w)
    v["evaluation"] = w.call("evaluation.evaluate", ref="m@1", data="bc@1", resamples=20).id
    for model in ("m", "m2"):  # gating registration only: no case registers into them
        w.call(
            "evaluation.set_gate",
            name=model,
            data="bc@1",
            thresholds={"accuracy": {"threshold": 0.5}},
            stages=["register"],
        )
    v["open_run"] = w.call("tracking.create_run", experiment="exp").id
    v["end_run"] = w.call("tracking.create_run", experiment="exp").id
    w.call("tracking.create_experiment", name="exp2")
    v["tag_run"] = w.call("tracking.create_run", experiment="exp", tags={"team": "a"}).id
    v["deleted_run"] = w.call("tracking.create_run", experiment="exp").id
    w.call("tracking.delete_run", run_id=v["deleted_run"])
    v["purged_run"] = w.call("tracking.create_run", experiment="exp").id
    w.call("tracking.log_artifact", run_id=v["purged_run"], path="a.txt", content=b"purge me")
    w.call("tracking.delete_run", run_id=v["purged_run"])
    for endpoint in (
        "ep",
        "ep-upd",
        "ep-del",
        "ep-var",
        "ep-rm",
        "ep-dep",
        "ep-dep2",
        "ep-feat",
        "ep-fdel",
    ):
        w.call("endpoints.create", name=endpoint, model="m@1", capture={"enabled": True})
    w.call("endpoints.add_variant", name="ep-rm", variant="b", model="m@1")
    w.call("retention.put_rule", kind="captures", target="ep-del", days=7)
    two = [{"name": n, "model": "m@1", "weight": 1.0} for n in ("a", "b")]
    w.call("endpoints.create", name="ep-bandit", variants=two)
    # on already, so that a bandit step's case does not depend on configure_bandit's
    w.call("endpoints.configure_bandit", name="ep-bandit", enabled=True)
    suggestion = w.call("contracts.suggest", dataset="bc", name="c")
    v["contract"] = suggestion.contract.model_dump(mode="json", by_alias=True, exclude_none=True)
    w.call("contracts.apply", document=v["contract"])
    v["report"] = w.call("contracts.validate", dataset="bc", contract="c").id
    w.call("transforms.apply", name="tr", spec=_transform_spec("tr-out"))
    w.call("transforms.run", name="tr")
    w.call("features.apply_view", name="fv", spec=_view_spec())
    w.call("features.apply_view", name="fvb", spec=_view_spec())
    w.call("features.materialize", name="fv")
    w.call("features.materialize", name="fvb")
    binding = [{"view": "fv", "features": {"rate": "mean_radius"}}]
    for endpoint in ("ep-feat", "ep-fdel"):
        w.call("features.put_endpoint_features", endpoint=endpoint, sources=binding)
    w.call("streams.create", spec=_stream_spec("st", "st-data"))
    v["batch"] = w.call("batch.create_job", model="m@1", input="bc@1", output="scores").id
    v["automl"] = w.call("automl.create_job", dataset="bc@1", target="diagnosis", budget="10s").id
    w.call("automl.cancel_job", job_id=v["automl"])
    _wait_for_jobs(w.platform)
    v["export"] = w.call("edge.export", ref="m@1").id
    v["deployment"] = w.call(
        "deployments.create",
        endpoint="ep-dep",
        model="m2@1",
        strategy="all-at-once",
        bake="0s",
        background=False,
    ).id
    for name in ("al", "al-del"):
        w.call("alarms.put", name=name, **_alarm_args())
    for pipeline in ("pl", "pl-del"):
        w.call("pipelines.create", spec=_pipeline_spec(pipeline))
    v["pl_run"] = w.call("pipelines.start_run", name="pl").id
    _wait_for_jobs(w.platform)
    for monitor in ("mon", "mon-del"):
        w.call("monitoring.create", name=monitor, endpoint="ep")
    w.call("monitoring.run", name="mon")
    for name in ("target-user", "target-user2", "target-disable", "target-delete"):
        w.call("iam.create_principal", name=name)
    w.call("iam.attach_policy", principal="target-user2", policy="ReadOnlyAccess")
    one = {"Statement": [{"Effect": "Allow", "Action": "datasets:GetDataset", "Resource": "*"}]}
    for policy in ("versioned", "versioned", "deletable"):
        w.call("iam.put_policy", name=policy, document=one)
    anyone = {"Statement": [{"Effect": "Allow", "Principal": ["*"]}]}
    w.call("iam.create_role", role="assumable", trust_policy=anyone)
    for group in ("battery-group", "battery-gone"):
        w.call("iam.create_group", group=group)
    w.call("iam.add_group_member", group="battery-group", principal="target-user2")
    w.call("iam.attach_group_policy", group="battery-group", policy="versioned")
    v["spare_key"] = w.call("iam.create_api_key", principal="target-user").key_id


def _alarm_args(**extra: Any) -> Args:
    rule = {"comparison": ">", "threshold": 0.1, "period": "10s"}
    return {"source": "endpoint:ep", "metric": "error_rate", **rule, **extra}


# Arguments of one call of each operation against the world. Mutating operations name
# resources of their own where their positive control would disturb later cases.
CASES: dict[str, Callable[[World], Args]] = {
    "alarms.put": lambda w: {
        "name": "al-new",
        **_alarm_args(
            actions=[
                {"kind": "rollback", "endpoint": "ep-dep"},
                {"kind": "pipeline", "pipeline": "pl"},
            ]
        ),
    },
    "alarms.list": lambda w: {},
    "alarms.get": lambda w: {"name": "al"},
    "alarms.history": lambda w: {"name": "al"},
    "alarms.evaluate": lambda w: {"name": "al"},
    "alarms.delete": lambda w: {"name": "al-del"},
    "iam.create_principal": lambda w: {"name": "new-principal"},
    "iam.list_principals": lambda w: {},
    "iam.disable_principal": lambda w: {"principal": "target-disable"},
    "iam.enable_principal": lambda w: {"principal": "target-disable"},
    "iam.delete_principal": lambda w: {"principal": "target-delete"},
    "iam.put_principal_boundary": lambda w: {
        "principal": "target-user",
        "policy": "ReadOnlyAccess",
    },
    "iam.delete_principal_boundary": lambda w: {"principal": "target-disable"},
    "iam.create_api_key": lambda w: {"principal": "target-user", "expires_in": "30d"},
    "iam.list_api_keys": lambda w: {"principal": "target-user"},
    "iam.get_principal_limits": lambda w: {"principal": "target-user"},
    "iam.put_principal_limits": lambda w: {"principal": "target-user", "daily_quota": 10**9},
    "iam.revoke_api_key": lambda w: {"key_id": w["spare_key"]},
    "iam.put_policy": lambda w: {
        "name": "battery-policy",
        "document": {
            "Statement": [
                {"Effect": "Allow", "Action": "datasets:GetDataset", "Resource": "sy:dataset/bc"}
            ]
        },
    },
    "iam.list_policies": lambda w: {},
    "iam.create_group": lambda w: {"group": "new-group"},
    "iam.create_role": lambda w: {
        "role": "new-role",
        "trust_policy": {"Statement": [{"Effect": "Allow", "Principal": ["ci-*"]}]},
    },
    "iam.assume_role": lambda w: {"role": "assumable", "duration": "15m"},
    "iam.list_groups": lambda w: {},
    "iam.delete_group": lambda w: {"group": "battery-gone"},
    "iam.add_group_member": lambda w: {"group": "battery-group", "principal": "target-user"},
    "iam.remove_group_member": lambda w: {"group": "battery-group", "principal": "target-user2"},
    "iam.attach_group_policy": lambda w: {"group": "battery-group", "policy": "ReadOnlyAccess"},
    "iam.detach_group_policy": lambda w: {"group": "battery-group", "policy": "versioned"},
    "iam.list_policy_versions": lambda w: {"name": "versioned"},
    "iam.set_default_policy_version": lambda w: {"name": "versioned", "version": 1},
    "iam.delete_policy": lambda w: {"name": "deletable"},
    "iam.attach_policy": lambda w: {"principal": "target-user", "policy": "ReadOnlyAccess"},
    "iam.detach_policy": lambda w: {"principal": "target-user2", "policy": "ReadOnlyAccess"},
    "audit.list_events": lambda w: {},
    "audit.verify_log": lambda w: {},
    "audit.export_log": lambda w: {"limit": 10},
    "audit.public_key": lambda w: {},
    "iam.revoke_certificate": lambda w: {"serial": "7f3a", "reason": "key leaked"},
    "iam.list_revoked_certificates": lambda w: {},
    "encryption.rotate_keys": lambda w: {},
    "iam.simulate": lambda w: {
        "principal": "target-user",
        "action": "datasets:GetDataset",
        "resource": "sy:dataset/bc/1",
        "context": {"sy:SourceIp": "10.0.0.7"},
    },
    "iam.tag_principal": lambda w: {"principal": "target-user", "tags": {"team": "a"}},
    "iam.untag_principal": lambda w: {"principal": "target-user", "keys": ["team"]},
    "iam.list_principal_tags": lambda w: {"principal": "target-user"},
    "registry.tag_model": lambda w: {"name": "m", "tags": {"team": "a"}},
    "registry.untag_model": lambda w: {"name": "m", "keys": ["team"]},
    "registry.list_model_tags": lambda w: {"name": "m"},
    "datasets.tag_dataset": lambda w: {"name": "bc", "tags": {"team": "a"}},
    "datasets.untag_dataset": lambda w: {"name": "bc", "keys": ["team"]},
    "datasets.list_dataset_tags": lambda w: {"name": "bc"},
    "endpoints.tag_endpoint": lambda w: {"name": "ep", "tags": {"team": "a"}},
    "endpoints.untag_endpoint": lambda w: {"name": "ep", "keys": ["team"]},
    "endpoints.list_endpoint_tags": lambda w: {"name": "ep"},
    "tracking.tag_experiment": lambda w: {"name": "exp", "tags": {"team": "a"}},
    "tracking.untag_experiment": lambda w: {"name": "exp", "keys": ["team"]},
    "tracking.list_experiment_tags": lambda w: {"name": "exp"},
    "contracts.suggest": lambda w: {"dataset": "bc"},
    "contracts.apply": lambda w: {"document": w["contract"]},
    "contracts.list": lambda w: {},
    "contracts.get": lambda w: {"name": "c"},
    "contracts.validate": lambda w: {"dataset": "bc", "contract": "c"},
    "contracts.list_validations": lambda w: {"dataset": "bc"},
    "contracts.get_validation": lambda w: {"report_id": w["report"]},
    "contracts.ingest": lambda w: {
        "name": "gated",
        "content": w.csv,
        "contract": "c",
        "on_fail": "quarantine",
        "filename": "bc.csv",
    },
    "datasets.ingest": lambda w: {
        "name": "fresh",
        "content": w.csv,
        "filename": "bc.csv",
        "tags": ["team=ml"],
    },
    "datasets.list": lambda w: {},
    "datasets.delete": lambda w: {"name": "del-ds", "version": 1, "reason": "retention"},
    "datasets.erase": lambda w: {
        "name": "erase-ds",
        "key": "id",
        "values": ["2"],
        "reason": "DSR-1",
    },
    "datasets.list_erasures": lambda w: {"name": "erase-ds"},
    "retention.put_rule": lambda w: {"kind": "captures", "target": "ep", "days": 30},
    "retention.list_rules": lambda w: {},
    "retention.delete_rule": lambda w: {"kind": "captures", "target": "ep-del"},
    "retention.apply": lambda w: {"dry_run": True},
    "datasets.list_versions": lambda w: {"name": "bc"},
    "datasets.get": lambda w: {"name": "bc"},
    "datasets.head": lambda w: {"name": "bc"},
    "datasets.read": lambda w: {
        "name": "bc",
        "columns": ["mean_radius"],
        "filter": "diagnosis = 'benign'",
    },
    "tracking.create_experiment": lambda w: {"name": "exp-new", "tags": {"team": "ml"}},
    "tracking.list_experiments": lambda w: {},
    "tracking.get_experiment": lambda w: {"name": "exp"},
    "tracking.create_run": lambda w: {"experiment": "exp", "parent": w["open_run"]},
    "tracking.list_runs": lambda w: {"experiment": "exp"},
    "tracking.search_runs": lambda w: {
        "experiments": ["exp", "exp2"],
        "filter": "metrics.accuracy > 0",
        "order_by": ["metrics.accuracy DESC"],
    },
    "tracking.get_run": lambda w: {"run_id": w["run"]},
    "tracking.log_batch": lambda w: {
        "run_id": w["open_run"],
        "metrics": [{"key": "loss", "value": 0.5}],
    },
    "tracking.end_run": lambda w: {"run_id": w["end_run"]},
    "tracking.delete_tag": lambda w: {"run_id": w["tag_run"], "key": "team"},
    "tracking.delete_run": lambda w: {"run_id": w["end_run"]},
    "tracking.restore_run": lambda w: {"run_id": w["deleted_run"]},
    "tracking.purge_runs": lambda w: {
        "run_ids": [w["purged_run"]],
        "experiment": "exp",
        "reason": "battery",
    },
    "tracking.metric_history": lambda w: {"run_id": w["run"], "key": "accuracy"},
    "tracking.metric_series": lambda w: {"run_id": w["run"]},
    "tracking.metric_chart": lambda w: {"run_id": w["run"], "key": "accuracy", "max_points": 50},
    "tracking.log_artifact": lambda w: {
        "run_id": w["open_run"],
        "path": "notes.txt",
        "content": b"hello",
    },
    "tracking.get_artifact": lambda w: {"run_id": w["run"], "path": "model/meta.json"},
    "training.create_job": lambda w: {
        "spec": lightgbm_spec("bc@1", experiment="exp", init_model="m@champion")
    },
    "training.list_jobs": lambda w: {},
    "tuning.create_job": lambda w: {"spec": _tuning_spec(warm_start=[w["tuning"]])},
    "tuning.list_jobs": lambda w: {},
    "tuning.get_job": lambda w: {"job_id": w["tuning"]},
    "tuning.read_log": lambda w: {"job_id": w["tuning"]},
    "tuning.cancel_job": lambda w: {"job_id": w["tuning"]},
    "tuning.resume_job": lambda w: {"job_id": w["tuning"]},
    "tuning.list_trials": lambda w: {"job_id": w["tuning"]},
    "tuning.best": lambda w: {"job_id": w["tuning"]},
    "tuning.register_best": lambda w: {"job_id": w["tuning"], "name": "tuned"},
    "tuning.report": lambda w: {"job_id": w["tuning"]},
    "training.get_job": lambda w: {"job_id": w["job"]},
    "training.read_log": lambda w: {"job_id": w["job"]},
    "training.cancel_job": lambda w: {"job_id": w["job"]},
    "training.run_code": lambda w: {
        "spec": {"entrypoint": "train.py:main", "dataset": "bc@1", "experiment": "exp"},
        "files": {"train.py": "def main(context):\n    context.run.log_metric('x', 1.0)\n"},
    },
    "registry.register": lambda w: {"name": "m-reg", "run_id": w["code_run"]},
    "registry.create_model": lambda w: {"name": "m-new", "tags": {"team": "ml"}},
    "registry.list_models": lambda w: {},
    "registry.get_model": lambda w: {"name": "m"},
    "registry.get_version": lambda w: {"ref": "m@champion"},
    "registry.set_approval": lambda w: {
        "name": "m",
        "version": 1,
        "status": "Approved",
        "reason": "battery",
    },
    "registry.approval_history": lambda w: {"name": "m", "version": 1},
    "registry.set_alias": lambda w: {"name": "m", "alias": "staging", "version": 1},
    "registry.delete_alias": lambda w: {"name": "m", "alias": "old"},
    "registry.delete_version": lambda w: {"name": "m-del", "version": 1, "reason": "retired"},
    "registry.lineage": lambda w: {"kind": "model", "ref": "m@champion"},
    "registry.update_model": lambda w: {"name": "m", "four_eyes": False},
    "registry.model_card": lambda w: {"name": "m", "version": 1},
    "evaluation.evaluate": lambda w: {
        "ref": "m@champion",
        "data": "bc@1",
        "baseline": "m@1",
        "resamples": 20,
    },
    "evaluation.list": lambda w: {"ref": "m@champion"},
    "evaluation.get": lambda w: {"evaluation_id": w["evaluation"]},
    "evaluation.report": lambda w: {"evaluation_id": w["evaluation"]},
    "evaluation.set_gate": lambda w: {
        "name": "m",
        "data": "bc@1",
        "thresholds": {"accuracy": {"threshold": 0.6}},
        "stages": ["register"],
    },
    "evaluation.get_gate": lambda w: {"name": "m"},
    "evaluation.delete_gate": lambda w: {"name": "m2"},
    "endpoints.create": lambda w: {
        "name": "ep-new",
        "model": "m@champion",
        "tags": {"team": "ml"},
    },
    "endpoints.list": lambda w: {},
    "endpoints.get": lambda w: {"name": "ep"},
    "endpoints.update": lambda w: {"name": "ep-upd", "model": "m2"},
    "endpoints.delete": lambda w: {"name": "ep-del"},
    "endpoints.delete_captures": lambda w: {"name": "ep", "reason": "retention"},
    "endpoints.set_weights": lambda w: {"name": "ep", "weights": {"primary": 1.0}},
    "endpoints.add_variant": lambda w: {"name": "ep-var", "variant": "b", "model": "m2@1"},
    "endpoints.remove_variant": lambda w: {"name": "ep-rm", "variant": "b"},
    "endpoints.configure": lambda w: {"name": "ep", "production": False},
    "endpoints.feedback": lambda w: {"name": "ep", "records": [{"request_id": "r1", "label": 1}]},
    "endpoints.compare": lambda w: {"name": "ep"},
    "endpoints.traffic": lambda w: {"name": "ep", "minutes": 30, "buckets": 10},
    "endpoints.configure_bandit": lambda w: {"name": "ep-bandit", "enabled": True},
    "endpoints.bandit_step": lambda w: {"name": "ep-bandit", "seed": 0},
    "deployments.create": lambda w: {
        "endpoint": "ep-dep2",
        "model": "m2@1",
        "strategy": "all-at-once",
        "bake": "0s",
        "background": False,
    },
    "deployments.list": lambda w: {},
    "deployments.get": lambda w: {"deployment_id": w["deployment"]},
    "deployments.advance": lambda w: {"deployment_id": w["deployment"]},
    "deployments.resume": lambda w: {
        "deployment_id": w["deployment"],
        "background": False,
        "force": True,
    },
    "deployments.rollback": lambda w: {"endpoint": "ep-dep"},
    "transforms.apply": lambda w: {"name": "tr-new", "spec": _transform_spec("tr-new-out")},
    "transforms.list": lambda w: {},
    "transforms.get": lambda w: {"name": "tr"},
    "transforms.run": lambda w: {"name": "tr", "force": True},
    "transforms.list_runs": lambda w: {"name": "tr"},
    "transforms.lineage": lambda w: {"ref": "tr-out"},
    "streams.create": lambda w: {"spec": _stream_spec("st-new", "st-new-data")},
    "streams.list": lambda w: {},
    "streams.get": lambda w: {"name": "st"},
    "streams.put_records": lambda w: {"name": "st", "records": [{"id": "1", "x": 1.0}]},
    "streams.put_ndjson": lambda w: {"name": "st", "content": b'{"id": "2", "x": 2.0}\n'},
    "streams.list_commits": lambda w: {"name": "st"},
    "streams.list_rejections": lambda w: {"name": "st"},
    "features.apply_view": lambda w: {"name": "fv-new", "spec": _view_spec()},
    "features.list_views": lambda w: {},
    "features.get_view": lambda w: {"name": "fv"},
    "features.materialize": lambda w: {"name": "fv"},
    "features.retrieve": lambda w: {
        "output": "training-set",
        "features": ["fv", "fvb:trips"],
        "entities": "trips",
    },
    "features.get_online": lambda w: {
        "features": ["fv:rate", "fvb:trips"],
        "entities": [{"driver_id": 1}],
    },
    "features.put_endpoint_features": lambda w: {
        "endpoint": "ep",
        "sources": [{"view": "fvb", "features": {"rate": "mean_radius"}}],
    },
    "features.get_endpoint_features": lambda w: {"endpoint": "ep-feat"},
    "features.delete_endpoint_features": lambda w: {"endpoint": "ep-fdel"},
    "automl.create_job": lambda w: {  # refused for its budget once every check has passed
        "dataset": "bc@1",
        "target": "diagnosis",
        "budget": "5s",
        "experiment": "exp",
        "register_to": "automl-model",
    },
    "automl.list_jobs": lambda w: {},
    "automl.get_job": lambda w: {"job_id": w["automl"]},
    "automl.read_log": lambda w: {"job_id": w["automl"]},
    "automl.leaderboard": lambda w: {"job_id": w["automl"]},
    "automl.cancel_job": lambda w: {"job_id": w["automl"]},
    "batch.create_job": lambda w: {"model": "m@champion", "input": "bc", "output": "scores-2"},
    "batch.list_jobs": lambda w: {},
    "batch.get_job": lambda w: {"job_id": w["batch"]},
    "batch.resume_job": lambda w: {"job_id": w["batch"]},
    "batch.read_log": lambda w: {"job_id": w["batch"]},
    "batch.cancel_job": lambda w: {"job_id": w["batch"]},
    "edge.export": lambda w: {"ref": "m@champion"},
    "edge.list": lambda w: {"ref": "m@champion"},
    "edge.get": lambda w: {"export_id": w["export"]},
    "edge.package": lambda w: {"export_id": w["export"]},
    "cost.report": lambda w: {"by": "principal", "since": "1d"},
    "endpoints.recommend": lambda w: {
        "name": "ep",
        "workers": [1],
        "batch_sizes": [0],
        "seconds": 0.3,
        "concurrency": 1,
    },
    "pipelines.create": lambda w: {"spec": _pipeline_spec("pl2")},
    "pipelines.list": lambda w: {},
    "pipelines.get": lambda w: {"name": "pl"},
    "pipelines.delete": lambda w: {"name": "pl-del"},
    "pipelines.start_run": lambda w: {"name": "pl"},
    "pipelines.list_runs": lambda w: {"name": "pl"},
    "pipelines.get_run": lambda w: {"run_id": w["pl_run"]},
    "pipelines.read_log": lambda w: {"run_id": w["pl_run"]},
    "pipelines.cancel_run": lambda w: {"run_id": w["pl_run"]},
    "pipelines.resume_run": lambda w: {"run_id": w["pl_run"]},
    "monitoring.create": lambda w: {
        "name": "mon-new",
        "endpoint": "ep",
        "kinds": ["data", "prediction", "quality", "estimated", "attribution"],
    },
    "monitoring.list": lambda w: {},
    "monitoring.get": lambda w: {"name": "mon"},
    "monitoring.delete": lambda w: {"name": "mon-del"},
    "monitoring.run": lambda w: {"name": "mon"},
    "monitoring.history": lambda w: {"name": "mon"},
    "monitoring.report": lambda w: {"name": "mon"},
    "monitoring.result": lambda w: {"name": "mon"},
    "monitoring.metrics": lambda w: {"name": "mon"},
}

# What each operation reads or uses beyond its primary resource, as an attacker who owns
# the primary would try to reach someone else's data through it. The declarations must
# name at least these; an operation missing here declares nothing beyond its primary.
USES: dict[str, list[str]] = {
    # a pipeline action needs what starting the pipeline by hand needs: its steps' accesses
    "alarms.put": [
        "endpoints:ReadMetrics",
        "deploy:RollbackDeployment",
        "pipelines:StartPipelineRun",
        "datasets:ReadData",
        "deploy:CreateDeployment",
        "registry:GetModelVersion",
    ],
    "alarms.evaluate": ["endpoints:ReadMetrics"],
    "iam.attach_policy": ["iam:AttachPolicy"],
    "iam.detach_policy": ["iam:DetachPolicy"],
    "iam.simulate": ["iam:ListPolicies"],
    "iam.put_principal_boundary": ["iam:AttachPolicy"],
    "iam.add_group_member": ["iam:AddPrincipalToGroup"],
    "iam.remove_group_member": ["iam:RemovePrincipalFromGroup"],
    "iam.attach_group_policy": ["iam:AttachGroupPolicy"],
    "iam.detach_group_policy": ["iam:DetachGroupPolicy"],
    "contracts.suggest": ["datasets:ReadData"],
    # a rule is a standing delete: setting one needs the delete it will make
    "retention.put_rule": ["endpoints:DeleteCapture"],
    "contracts.apply": ["datasets:GetDataset"],
    "contracts.validate": ["datasets:ReadData", "contracts:GetContract"],
    "contracts.get_validation": ["datasets:ReadData"],
    "contracts.ingest": ["contracts:GetContract", "datasets:Ingest"],
    "training.create_job": ["datasets:ReadData", "tracking:CreateRun", "registry:GetModelVersion"],
    "training.run_code": ["training:RunCode", "datasets:ReadData", "tracking:CreateRun"],
    "tuning.create_job": ["datasets:ReadData", "tracking:CreateRun", "tuning:DescribeTuningJob"],
    "tuning.register_best": ["registry:RegisterModel", "tracking:GetArtifact"],
    "tuning.resume_job": ["datasets:ReadData", "tracking:CreateRun"],
    "tracking.create_run": ["tracking:LogBatch"],
    # naming the experiment, then purging each run on its own resource
    "tracking.purge_runs": ["tracking:PurgeRun"],
    "tracking.search_runs": ["tracking:ListRuns"],
    "registry.register": ["tracking:GetArtifact", "registry:RegisterCode"],
    "registry.set_alias": ["registry:GetModelVersion"],
    # a card shows the version, its lineage, run, training data with its validation and
    # contract, and its evaluations
    "registry.model_card": [
        "registry:GetModelVersion",
        "registry:GetLineage",
        "tracking:GetRun",
        "registry:ListEvaluations",
        "datasets:GetDataset",
        "contracts:GetValidation",
        "contracts:GetContract",
    ],
    "evaluation.evaluate": ["datasets:ReadData", "registry:GetModelVersion"],
    "evaluation.set_gate": ["datasets:ReadData"],
    "endpoints.create": ["endpoints:TagResource", "registry:GetModelVersion"],
    # tags given at creation are tagging too
    "datasets.ingest": ["datasets:TagResource"],
    "tracking.create_experiment": ["tracking:TagResource"],
    "registry.create_model": ["registry:TagResource"],
    # serving the versions in a private copy, replaying the training data (no capture)
    "endpoints.recommend": ["registry:GetModelVersion", "datasets:ReadData"],
    "endpoints.update": ["registry:GetModelVersion"],
    "endpoints.add_variant": ["registry:GetModelVersion"],
    "deployments.create": ["registry:GetModelVersion"],
    "deployments.resume": ["registry:GetModelVersion"],
    "transforms.run": ["datasets:ReadData", "datasets:Ingest"],
    "streams.create": ["datasets:Ingest"],
    "features.apply_view": ["datasets:ReadData"],
    "features.materialize": ["datasets:ReadData"],
    "features.retrieve": [  # entity rows; both views read the same source version
        "datasets:Ingest",
        "datasets:ReadData",
        "features:GetFeatureView",
        "features:GetFeatureView",
        "datasets:ReadData",
    ],
    "features.get_online": ["features:GetOnlineFeatures"],
    "features.put_endpoint_features": ["features:GetOnlineFeatures"],
    "automl.create_job": ["datasets:ReadData", "tracking:CreateRun", "registry:RegisterModel"],
    "batch.create_job": ["registry:GetModelVersion", "datasets:ReadData", "datasets:Ingest"],
    "batch.resume_job": ["registry:GetModelVersion", "datasets:ReadData", "datasets:Ingest"],
    # a pipeline's steps: reading bc@1, deploying m@1 to an endpoint
    "pipelines.create": [
        "datasets:ReadData",
        "deploy:CreateDeployment",
        "registry:GetModelVersion",
    ],
    "pipelines.start_run": [
        "datasets:ReadData",
        "deploy:CreateDeployment",
        "registry:GetModelVersion",
    ],
    "pipelines.resume_run": [
        "datasets:ReadData",
        "deploy:CreateDeployment",
        "registry:GetModelVersion",
    ],
    # a monitor reads its endpoint's capture and feedback, each variant's model version and
    # the baseline (here the version's training data, from lineage), also when run or read
    **{
        f"monitoring.{name}": [
            "endpoints:ReadCapture",
            "registry:GetModelVersion",
            "datasets:ReadData",
        ]
        for name in ("create", "get", "run", "history", "report", "result", "metrics")
    },
}

# Positive controls that may end in a refusal other than authorization: the call got
# past every check and then met the world's state (the status it answers with).
NOT_AUTHORIZATION = {
    "batch.resume_job": errors.Conflict,  # the job already succeeded
    "batch.cancel_job": errors.Conflict,  # the job already ended
    "training.cancel_job": errors.Conflict,
    "tuning.cancel_job": errors.Conflict,  # the job already ended
    "tuning.resume_job": errors.Conflict,  # the job succeeded
    "automl.create_job": errors.InvalidInput,  # a budget under 10 s
    "automl.cancel_job": errors.Conflict,  # the job was cancelled already
    "automl.leaderboard": errors.Conflict,  # a cancelled job has none
    "pipelines.cancel_run": errors.Conflict,  # the run already ended
    "pipelines.resume_run": errors.Conflict,  # the run succeeded
}


def test_every_operation_has_a_case() -> None:
    """A new operation must come with a case, so its declared resources are enforced."""
    assert sorted(set(BY_NAME) - set(CASES)) == []
    assert sorted(set(CASES) - set(BY_NAME)) == []


def test_no_check_is_made_by_hand_inside_a_service() -> None:
    """Every check is declared on the operation, where the battery sees it."""
    source = Path(__file__).parents[2] / "src" / "shipyard"
    by_hand = [
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if "security" not in path.parts and "ctx.authorize(" in path.read_text()
    ]
    assert by_hand == []


_REQUEST_RECORDS = {("api_keys", "last_used_at")}


def _snapshot(w: World) -> str:
    """A digest of every metadata row and every stored file, but the records of the request
    itself: the audit trail and its key's last use (written off the request, when it likes)."""
    digest = hashlib.sha256()
    with w.platform.db.engine.connect() as connection:
        if "tables" not in w.values:
            metadata = sa.MetaData()
            metadata.reflect(connection)
            skip = ("audit_events", "audit_checkpoints", "alembic_version")
            w.values["tables"] = [
                metadata.tables[n] for n in sorted(metadata.tables) if n not in skip
            ]
        for table in w.values["tables"]:
            name = table.name
            columns = [c for c in table.columns if (name, c.name) not in _REQUEST_RECORDS]
            rows = connection.execute(sa.select(*columns)).all()
            digest.update(name.encode())
            for row in sorted(repr(tuple(r)) for r in rows):
                digest.update(row.encode())
    for path in sorted(w.home.rglob("*")):
        if path.is_file() and not path.name.startswith("shipyard.db"):
            digest.update(f"{path.relative_to(w.home)}:{path.stat().st_size}".encode())
    return digest.hexdigest()


def _principal(w: World, statements: list[dict[str, Any]]) -> tuple[str, str]:
    """A new principal with one policy of these statements: (its name, its key)."""
    name = f"tester-{next(w.counter)}"
    w.call("iam.create_principal", name=name)
    w.call("iam.put_policy", name=f"{name}-policy", document={"Statement": statements})
    w.call("iam.attach_policy", principal=name, policy=f"{name}-policy")
    return name, w.call("iam.create_api_key", principal=name).token


def _allow(accesses: list[Access]) -> list[dict[str, Any]]:
    return [{"Effect": "Allow", "Action": a.action, "Resource": a.resource.name} for a in accesses]


def _rest(w: World, key: str, operation: str, args: Args) -> Any:
    transport = HttpTransport(w.url, key)
    try:
        return transport.call(operation, **args)
    finally:
        transport.close()


def _refused(
    w: World,
    operation: str,
    args: Args,
    tester: tuple[str, str],
    denied: Access,
    name: str,
    before: str,
) -> None:
    """``tester`` (name, key) is refused, leaving the stored state ``before`` as it was."""
    principal, key = tester
    with pytest.raises(errors.AccessDenied):
        _rest(w, key, operation, args)
    assert _snapshot(w) == before, f"{operation} changed stored state while refusing {principal}"
    with w.platform.db.session() as session:
        audited = session.scalars(
            sa.select(t.AuditEvent).where(
                t.AuditEvent.principal == principal, t.AuditEvent.outcome == "denied"
            )
        ).all()
    assert [(e.action, e.resource) for e in audited] == [(denied.action, name)]


def _declared(w: World, operation: str, args: Args) -> list[Access]:
    op = BY_NAME[operation]
    accesses = op.info.accesses(w.platform, op.validate(dict(args)))
    return list(dict.fromkeys(accesses))


SHARDS = 2
"""The cases run in halves, each file on a world of its own (the other half is
``test_authorization_battery_b.py``), so that two test workers share them."""


def shard(index: int) -> list[str]:
    return [op.name for op in OPERATIONS][index::SHARDS]


@pytest.mark.parametrize("operation", shard(0))
def test_each_declared_resource_is_enforced(world: World, operation: str) -> None:
    enforce(world, operation)


def enforce(world: World, operation: str) -> None:
    """Every declared access of ``operation`` refused alone, and the positive control."""
    args = CASES[operation](world)
    accesses = _declared(world, operation, args)
    assert sorted(a.action for a in accesses[1:]) == sorted(USES.get(operation, []))
    refusals: list[tuple[list[dict[str, Any]], Access, str]] = []
    for index, access in enumerate(accesses):
        for name in access.resource.names:
            deny = {"Effect": "Deny", "Action": access.action, "Resource": name}
            everything = {"Effect": "Allow", "Action": "*", "Resource": "*"}
            refusals.append(([everything, deny], access, name))
        others = accesses[:index] + accesses[index + 1 :]
        allow_list = _allow(others) or [
            {"Effect": "Allow", "Action": "datasets:GetDataset", "Resource": "sy:dataset/none"}
        ]
        refusals.append((allow_list, access, access.resource.name))
    # every tester first, then one snapshot: each refusal must leave exactly that state
    testers = [_principal(world, statements) for statements, _, _ in refusals]
    before = _snapshot(world)
    for tester, (_, access, name) in zip(testers, refusals, strict=True):
        _refused(world, operation, args, tester, access, name, before)
    _, key = _principal(world, _allow(accesses))
    expected = NOT_AUTHORIZATION.get(operation)
    if expected is None:
        _rest(world, key, operation, args)
    else:
        with pytest.raises(expected):
            _rest(world, key, operation, args)
    _wait_for_jobs(world.platform)
    _report(operation, accesses)


def _report(operation: str, accesses: list[Access]) -> None:
    """With SHIPYARD_BATTERY_REPORT=<file>, append the operation's declared accesses."""
    target = os.environ.get("SHIPYARD_BATTERY_REPORT")
    if not target:
        return
    refusals = sum(len(a.resource.names) + 1 for a in accesses)
    declared = "; ".join(f"`{a.action}` {' = '.join(a.resource.names)}" for a in accesses)
    with open(target, "a") as report:
        report.write(f"| `{operation}` | {declared} | {refusals} |\n")
