"""Every listing pages by key over REST on SQLite and PostgreSQL: each row once, in order,
and a page token that is garbled, forged or from another listing is refused naming it."""

from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import sqlalchemy as sa
from sklearn.datasets import load_breast_cancer
from tests.cli.inprocess import shipyard
from tests.conftest import LiveServer
from tests.endpoints.endpointkit import MODEL, register_versions

from shipyard.client import Client, HttpTransport, iterate
from shipyard.clock import utcnow
from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import CachedKeyAuthorizer
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import pipeline_tables as pt
from shipyard.store.metadata import tables as t

V1 = "/api/v1"
CAPTURE = {"enabled": True, "sampling_percent": 100, "mode": "both"}
PIPELINE = {"name": "{name}", "steps": [{"name": "copy", "kind": "ingest", "with": {"from": "d"}}]}


def _walk(http: httpx.Client, path: str, key: str, **params: Any) -> tuple[list[Any], int]:
    """Every row of a listing two at a time, and how many pages that took."""
    seen: list[Any] = []
    token: str | None = None
    pages = 0
    while True:
        query = {**params, "limit": 2} | ({"page_token": token} if token else {})
        answer = http.get(path, params=query)
        assert answer.status_code == 200, (path, answer.text)
        body = answer.json()
        assert len(body["items"]) <= 2
        seen += [item[key] for item in body["items"]]
        pages += 1
        token = body["next_page_token"]
        if token is None:
            return seen, pages


def _refused(answer: httpx.Response, field: str) -> None:
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["field"] == field


def _add_runs(platform: Platform, pipeline: str, count: int) -> list[str]:
    """Runs of ``pipeline`` as the job system records them, two to a creation time (so the
    id breaks ties); their ids newest first."""
    base = utcnow()
    runs = [(base - timedelta(seconds=i // 2), f"run{i:02d}-{pipeline}") for i in range(count)]
    with platform.db.session() as session:
        spec = session.scalars(
            sa.select(pt.Pipeline.spec).where(pt.Pipeline.name == pipeline)
        ).one()
        for at, run_id in runs:
            session.add(
                j.Job(
                    id=run_id, kind="pipeline", name=pipeline, scope=pipeline,
                    status="succeeded", created_by="admin", created_at=at,
                )
            )  # fmt: skip
            session.flush()
            session.add(pt.PipelineRun(id=run_id, pipeline=pipeline, pipeline_version=1, spec=spec))
    return [run_id for _, run_id in sorted(runs, reverse=True)]


def _setup(platform: Platform, http: httpx.Client, sdk: Client) -> dict[str, list[str]]:
    """Three or more rows in every listing; the names expected in each, in order."""
    made: dict[str, list[str]] = {}
    for name in ("e-c", "e-a", "e-b"):
        assert http.post(f"{V1}/experiments", json={"name": name}).status_code == 201
    for name in ("d-c", "d-a", "d-b"):
        sent = http.post(
            f"{V1}/datasets/{name}/versions",
            params={"filename": "x.csv"},
            content=b"a,b\n1,2\n",
        )
        assert sent.status_code == 201, sent.text
    for name in ("p-c", "p-a", "p-b"):
        assert http.post(f"{V1}/principals", json={"name": name}).status_code == 201
        document = {"Statement": [{"Effect": "Allow", "Action": "datasets:*", "Resource": "*"}]}
        assert http.put(f"{V1}/policies/pol-{name}", json={"document": document}).is_success
    for name in ("g-c", "g-a", "g-b"):
        assert http.post(f"{V1}/groups", json={"group": name}).status_code == 201
    assert http.post(f"{V1}/groups/g-a/members", json={"principal": "p-a"}).is_success
    columns = [n.replace(" ", "_") for n in load_breast_cancer().feature_names]
    baseline = ",".join(columns) + "\n" + ",".join(["1.0"] * len(columns)) + "\n"
    sent = http.post(
        f"{V1}/datasets/z-baseline/versions", params={"filename": "b.csv"}, content=baseline
    )
    assert sent.status_code == 201, sent.text
    made["keys"] = [http.post(f"{V1}/principals/p-a/keys").json()["key_id"] for _ in range(5)]
    for model in ("m-c", "m-a"):
        register_versions(platform, 1, model=model)
    register_versions(platform, 1)
    for name in ("ep-c", "ep-a", "ep-b"):
        sdk.endpoints.create(name, f"{MODEL}@1", capture=CAPTURE)
        sdk.monitors.create(f"mon-{name}", endpoint=name, kinds=["data"], baseline="z-baseline@1")
        sdk.alarms.put(f"al-{name}", f"endpoint:{name}", "error_rate", ">", 0.5)
        spec = orjson.loads(orjson.dumps(PIPELINE).replace(b"{name}", f"pl-{name}".encode()))
        assert http.put(f"{V1}/pipelines", json={"spec": spec}).is_success
    made["runs"] = _add_runs(platform, "pl-ep-a", 5)
    return made


def test_every_listing_pages_by_key(
    platform: Platform, api_server: LiveServer, admin_key: str
) -> None:
    headers = {"Authorization": f"Bearer {admin_key}"}
    sdk = Client(transport=HttpTransport(api_server.url, admin_key))
    with httpx.Client(base_url=api_server.url, headers=headers, timeout=60) as http:
        made = _setup(platform, http, sdk)
        listings: list[tuple[str, str, dict[str, Any], list[str] | None]] = [
            (f"{V1}/datasets", "name", {}, ["d-a", "d-b", "d-c", "z-baseline"]),
            (f"{V1}/experiments", "name", {}, None),
            (f"{V1}/models", "name", {}, [MODEL, "m-a", "m-c"]),
            (f"{V1}/endpoints", "name", {}, ["ep-a", "ep-b", "ep-c"]),
            (f"{V1}/principals", "name", {}, None),
            (f"{V1}/policies", "name", {}, None),
            (f"{V1}/groups", "name", {}, ["g-a", "g-b", "g-c"]),
            (f"{V1}/principals/p-a/keys", "key_id", {}, made["keys"]),
            (f"{V1}/pipelines", "name", {}, ["pl-ep-a", "pl-ep-b", "pl-ep-c"]),
            (f"{V1}/pipelines/pl-ep-a/runs", "id", {}, made["runs"]),
            (f"{V1}/monitors", "name", {}, ["mon-ep-a", "mon-ep-b", "mon-ep-c"]),
            (f"{V1}/monitors", "name", {"endpoint": "ep-b"}, ["mon-ep-b"]),
            (f"{V1}/alarms", "name", {}, ["al-ep-a", "al-ep-b", "al-ep-c"]),
        ]
        tokens: dict[str, str] = {}
        for path, key, params, expected in listings:
            whole = http.get(path, params={**params, "limit": 1000}).json()
            assert whole["next_page_token"] is None
            everything = [item[key] for item in whole["items"]]
            if expected is not None:
                assert everything == expected, path
            else:  # ordered by the database's collation, which Python's sort need not match
                assert len(everything) >= 3, path
            seen, pages = _walk(http, path, key, **params)
            assert seen == everything, path
            assert pages == max(1, (len(everything) + 1) // 2), path  # no empty last page
            first = http.get(path, params={**params, "limit": 1}).json()
            if first["next_page_token"]:
                tokens[path + str(params)] = first["next_page_token"]
            _refused(http.get(path, params={**params, "page_token": "%%garbled"}), "page_token")
            _refused(http.get(path, params={**params, "limit": 0}), "limit")
            _refused(http.get(path, params={**params, "limit": 1001}), "limit")

        # a token is good only for the listing (and the filters) it came from
        dataset_token = tokens[f"{V1}/datasets{{}}"]
        _refused(http.get(f"{V1}/models", params={"page_token": dataset_token}), "page_token")
        group_token = tokens[f"{V1}/groups{{}}"]
        _refused(http.get(f"{V1}/principals", params={"page_token": group_token}), "page_token")
        monitor_token = tokens[f"{V1}/monitors{{}}"]
        answer = http.get(
            f"{V1}/monitors", params={"endpoint": "ep-a", "page_token": monitor_token}
        )
        _refused(answer, "page_token")
        key_token = tokens[f"{V1}/principals/p-a/keys{{}}"]
        _refused(
            http.get(f"{V1}/principals/p-b/keys", params={"page_token": key_token}), "page_token"
        )
        # a token edited to carry a key of the wrong type is refused, not passed to SQL
        scope, _values = orjson.loads(base64.urlsafe_b64decode(dataset_token + "=="))
        forged = base64.urlsafe_b64encode(orjson.dumps([scope, [{"$gt": ""}]])).decode()
        _refused(http.get(f"{V1}/datasets", params={"page_token": forged}), "page_token")

        # MLflow's search keeps its own parameter names, over the same keyset pages
        mlflow = "/api/2.0/mlflow/registered-models/search"
        names, token = [], None
        while True:
            page = http.get(
                mlflow, params={"max_results": 2} | ({"page_token": token} if token else {})
            )
            assert page.status_code == 200, page.text
            names += [m["name"] for m in page.json()["registered_models"]]
            token = page.json().get("next_page_token")
            if not token:
                break
        assert names == [MODEL, "m-a", "m-c"]
        assert http.get(mlflow, params={"page_token": "garbled"}).status_code == 400

        # the SDK: every row by default (as before paging), one page when asked, or lazily
        assert [d.name for d in sdk.datasets.list()] == ["d-a", "d-b", "d-c", "z-baseline"]
        page = sdk.datasets.list(limit=2)
        assert [d.name for d in page] == ["d-a", "d-b"] and page.next_page_token
        rest = sdk.datasets.list(limit=2, page_token=page.next_page_token)
        assert [d.name for d in rest] == ["d-c", "z-baseline"] and rest.next_page_token is None
        assert [a.name for a in iterate(sdk.alarms.list, page_size=1)] == [
            "al-ep-a",
            "al-ep-b",
            "al-ep-c",
        ]
        groups = sdk.iam.list_groups()
        assert [(g.name, g.members) for g in groups] == [
            ("g-a", ["p-a"]),
            ("g-b", []),
            ("g-c", []),
        ]
        first_group = sdk.iam.list_groups(limit=2)
        assert [g.name for g in first_group] == ["g-a", "g-b"] and first_group.next_page_token
        last_group = sdk.iam.list_groups(page_token=first_group.next_page_token, limit=2)
        assert [g.name for g in last_group] == ["g-c"] and last_group.next_page_token is None
    sdk.close()


def test_a_listing_refused_to_a_caller_stays_refused_with_a_token(
    platform: Platform, api_server: LiveServer, admin_key: str
) -> None:
    admin = {"Authorization": f"Bearer {admin_key}"}
    with httpx.Client(base_url=api_server.url, timeout=60) as http:
        for name in ("a", "b", "c"):
            assert http.post(f"{V1}/principals", json={"name": name}, headers=admin).is_success
        token = http.get(f"{V1}/principals", params={"limit": 1}, headers=admin).json()[
            "next_page_token"
        ]
        outsider = http.post(f"{V1}/principals/c/keys", headers=admin).json()["token"]
        bearer = {"Authorization": f"Bearer {outsider}"}
        for params in ({"page_token": token}, {"page_token": "garbled"}, {"limit": 0}):
            answer = http.get(f"{V1}/principals", params=params, headers=bearer)
            assert answer.status_code == 403, answer.text
            assert "admin" not in answer.text and '"a"' not in answer.text


def test_keys_record_who_issued_them_and_their_last_use_once_a_minute(
    platform: Platform, api_server: LiveServer, admin_key: str
) -> None:
    admin = {"Authorization": f"Bearer {admin_key}"}
    with httpx.Client(base_url=api_server.url, timeout=60) as http:
        assert http.post(f"{V1}/principals", json={"name": "svc"}, headers=admin).is_success
        issued = http.post(f"{V1}/principals/svc/keys", headers=admin).json()
        assert (issued["created_by"], issued["last_used_at"]) == ("admin", None)

        def listed() -> dict[str, Any]:
            found = http.get(f"{V1}/principals/svc/keys", headers=admin).json()["items"]
            return dict(found[0])

        assert listed()["last_used_at"] is None
        used = {"Authorization": f"Bearer {issued['token']}"}
        assert http.get(f"{V1}/datasets", headers=used).status_code == 403  # authenticated
        for _ in range(500):
            if listed()["last_used_at"] is not None:
                break
            threading.Event().wait(0.02)
        first = listed()["last_used_at"]
        assert first is not None
        for _ in range(3):
            http.get(f"{V1}/datasets", headers=used)
        assert listed()["last_used_at"] == first  # not again within the minute
        bad = {"Authorization": f"Bearer {issued['token']}x"}
        assert http.get(f"{V1}/datasets", headers=bad).status_code == 401


def test_cli_lists_take_a_limit_and_print_the_next_token(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Client(settings=Settings(home=home)) as sdk:
        for name in ("robot-a", "robot-b", "robot-c"):
            sdk.iam.create_principal(name, kind="service")
        keys = [sdk.iam.create_api_key("robot-a").key_id for _ in range(3)]
        for group in ("crew-b", "crew-a"):
            sdk.iam.create_group(group)

    first = shipyard(home, "principals", "list", "--limit", "2", "--json")
    assert first.returncode == 0, first.stderr
    assert [p["name"] for p in json.loads(first.stdout)] == ["admin", "robot-a"]
    token = first.stderr.strip().removeprefix("more: --page-token ")
    rest = shipyard(home, "principals", "list", "--limit", "2", "--page-token", token)
    assert rest.returncode == 0, rest.stderr
    assert "robot-b" in rest.stdout and "robot-c" in rest.stdout and "admin" not in rest.stdout
    assert "more:" not in rest.stdout

    listed = shipyard(home, "keys", "list", "robot-a", "--limit", "2", "--json")
    assert listed.returncode == 0, listed.stderr
    found = json.loads(listed.stdout)
    assert [k["key_id"] for k in found] == keys[:2]
    assert {(k["created_by"], k["last_used_at"]) for k in found} == {("admin", None)}
    assert listed.stderr.startswith("more: --page-token ")

    groups = shipyard(home, "groups", "list", "--limit", "1", "--json")
    assert groups.returncode == 0, groups.stderr
    assert [g["name"] for g in json.loads(groups.stdout)] == ["crew-a"]
    token = groups.stderr.strip().removeprefix("more: --page-token ")
    rest = shipyard(home, "groups", "list", "--limit", "1", "--page-token", token)
    assert rest.returncode == 0, rest.stderr
    assert "crew-b" in rest.stdout and "crew-a" not in rest.stdout and "more:" not in rest.stdout
    refused = shipyard(home, "groups", "list", "--limit", "0")
    assert refused.returncode == 1 and "limit" in refused.stderr

    refused = shipyard(home, "principals", "list", "--page-token", "garbled!")
    assert refused.returncode == 1 and "page_token" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_the_data_plane_records_key_use_from_its_watcher_thread(
    platform: Platform, admin_key: str
) -> None:
    authorizer = CachedKeyAuthorizer(platform, poll_seconds=0.05)
    authorizer.start()
    try:
        assert authorizer.authorize(f"Bearer {admin_key}", "datasets:GetDataset", "sy:dataset/x")
        key_id = admin_key.split("_")[1]
        for _ in range(500):
            with platform.db.session() as session:
                used = session.scalar(
                    sa.select(t.ApiKey.last_used_at).where(t.ApiKey.key_id == key_id)
                )
            if used is not None:
                break
            threading.Event().wait(0.02)
        assert used is not None
    finally:
        authorizer.stop()


def test_the_named_listings_filter_by_name_on_the_server(
    platform: Platform, api_server: LiveServer, admin_key: str
) -> None:
    headers = {"Authorization": f"Bearer {admin_key}"}
    sdk = Client(transport=HttpTransport(api_server.url, admin_key))
    with httpx.Client(base_url=api_server.url, headers=headers, timeout=60) as http:
        _setup(platform, http, sdk)
        for name in ("exp_one", "exp-two", "Other"):
            sdk.tracking.create_experiment(name)
        for path, needle in (
            (f"{V1}/datasets", "D-"),
            (f"{V1}/models", "m-"),
            (f"{V1}/endpoints", "EP-b"),
            (f"{V1}/experiments", "exp"),
            (f"{V1}/experiments", "_"),  # a LIKE wildcard matches only itself
            (f"{V1}/experiments", "%"),
        ):
            whole = http.get(path, params={"limit": 1000}).json()["items"]
            expected = [i["name"] for i in whole if needle.lower() in i["name"].lower()]
            filtered = http.get(path, params={"limit": 1000, "name_contains": needle}).json()
            assert [i["name"] for i in filtered["items"]] == expected, (path, needle)
            seen, _pages = _walk(http, path, "name", name_contains=needle)
            assert seen == expected, (path, needle)
        assert [
            i["name"] for i in http.get(f"{V1}/experiments?name_contains=_").json()["items"]
        ] == ["exp_one"]

        # a token is bound to its filter: another filter's (or none) is refused
        page = http.get(f"{V1}/datasets", params={"limit": 1, "name_contains": "d-"}).json()
        assert [d["name"] for d in page["items"]] == ["d-a"] and page["next_page_token"]
        token = page["next_page_token"]
        _refused(http.get(f"{V1}/datasets", params={"page_token": token}), "page_token")
        other = {"page_token": token, "name_contains": "d-b"}
        _refused(http.get(f"{V1}/datasets", params=other), "page_token")
        _refused(http.get(f"{V1}/models", params={"name_contains": "x" * 201}), "name_contains")

        # the SDK (both ways of listing) and the CLI
        assert [m.name for m in sdk.models.list(name_contains="M-")] == ["m-a", "m-c"]
        one = sdk.endpoints.list(limit=1, name_contains="ep-")
        assert [e.name for e in one] == ["ep-a"] and one.next_page_token
        assert [e.name for e in iterate(sdk.endpoints.list, name_contains="c")] == ["ep-c"]

        # a caller refused the listing is refused with a filter too, learning no name
        assert http.post(f"{V1}/principals", json={"name": "nosy"}).is_success
        nosy = http.post(f"{V1}/principals/nosy/keys").json()["token"]
        bearer = {"Authorization": f"Bearer {nosy}"}
        for path in ("datasets", "models", "endpoints", "experiments"):
            answer = http.get(f"{V1}/{path}", params={"name_contains": "a"}, headers=bearer)
            assert answer.status_code == 403, answer.text
            assert "d-a" not in answer.text and "ep-a" not in answer.text
    sdk.close()


def test_cli_lists_filter_by_name(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Client(settings=Settings(home=home)) as sdk:
        for name in ("alpha", "beta", "Alphabet"):
            sdk.tracking.create_experiment(name)
    listed = shipyard(home, "experiments", "list", "--name-contains", "ALPHA", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [e["name"] for e in json.loads(listed.stdout)] == ["Alphabet", "alpha"]
    refused = shipyard(home, "models", "list", "--name-contains", "x" * 201)
    assert refused.returncode == 1 and "name_contains" in refused.stderr
