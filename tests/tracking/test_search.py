"""Searching runs: filters, ordering and pages, through both SDK transports on SQLite and
PostgreSQL, and bad input answered 4xx naming the field."""

from __future__ import annotations

import httpx
import pytest
from tests.conftest import LiveServer

from shipyard.client import Client
from shipyard.errors import InvalidInput, NotFound
from shipyard.tracking import _search as search_module

RUNS = [
    # name, params, tags, metrics (by step), status
    ("forest-6", {"model": "RandomForest", "max_depth": "6"}, {"team": "risk"}, [0.7, 0.91]),
    ("forest-3", {"model": "RandomForest", "max_depth": "3"}, {"team": "fraud"}, [0.85]),
    ("boost-6", {"model": "GradientBoost", "max_depth": "6"}, {}, [0.95, 0.82]),
    ("linear", {"model": "logistic"}, {"team": "risk"}, []),
]


@pytest.fixture(scope="module")
def client(module_client: Client) -> Client:
    """One client (each transport and backend) for the module: its tests only search."""
    return module_client


def _seed(client: Client, experiment: str) -> dict[str, str]:
    ids = {}
    for name, params, tags, aucs in RUNS:
        run = client.start_run(experiment=experiment, name=name, params=params, tags=tags)
        for step, auc in enumerate(aucs):
            run.log_metric("auc", auc, step=step)
        run.end("failed" if name == "linear" else "finished")
        ids[name] = run.id
    return ids


@pytest.fixture(scope="module")
def runs(client: Client) -> dict[str, str]:
    ids = _seed(client, "search")
    other = client.start_run(experiment="elsewhere", name="other", params={"max_depth": "6"})
    other.log_metric("auc", 0.99)
    other.end()
    ids["other"] = other.id
    return ids


def names(client: Client, filter: str = "", **kw: object) -> list[str]:
    page = client.tracking.search_runs(["search"], filter, **kw)  # type: ignore[arg-type]
    return [r.name for r in page.runs]


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ("", {"forest-6", "forest-3", "boost-6", "linear"}),
        ("metrics.auc > 0.8 and params.max_depth = '6'", {"forest-6", "boost-6"}),
        ("metrics.auc >= 0.91", {"forest-6"}),  # the latest value (step 1), not the best
        ("metrics.auc < 0.9", {"forest-3", "boost-6"}),
        ("metrics.auc != 0.85", {"forest-6", "boost-6"}),  # a run without the metric never
        ("params.max_depth != '6'", {"forest-3"}),  # nor one without the param
        ("params.model LIKE 'Random%'", {"forest-6", "forest-3"}),
        ("params.model LIKE 'random%'", set()),  # LIKE is case-sensitive on both backends
        ("params.model ILIKE 'random%'", {"forest-6", "forest-3"}),
        ("params.model LIKE '%Boost'", {"boost-6"}),
        ("params.model LIKE 'logisti_'", {"linear"}),
        ("tags.team IN ('risk', 'ops')", {"forest-6", "linear"}),
        ("tags.team NOT IN ('risk')", {"forest-3"}),
        ("tags.team IS NULL", {"boost-6"}),
        ("params.max_depth IS NOT NULL and tags.team = 'risk'", {"forest-6"}),
        ("attributes.status = 'FAILED'", {"linear"}),  # MLflow's upper case, Shipyard's lower
        ("status != 'failed'", {"forest-6", "forest-3", "boost-6"}),
        ("attributes.run_name LIKE 'forest-%'", {"forest-6", "forest-3"}),
        ("tags.mlflow.runName = 'linear'", {"linear"}),
        ("attributes.start_time > 0 and attributes.end_time > 0", None),  # every run
        ("attributes.start_time < 0", set()),
        ("attributes.user_id = 'admin'", None),
        ("params.model = 'x'' OR 1=1 --'", set()),  # a value is bound, never SQL text
    ],
)
@pytest.mark.parametrize("plan", ["named", "probed"])
def test_filters_select_runs(
    client: Client,
    runs: dict[str, str],
    filter: str,
    expected: set[str] | None,
    plan: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a comparison matching few runs names them to the search; one matching more is probed
    # run by run (here: any match at all, so both plans answer every filter)
    if plan == "probed":
        monkeypatch.setattr(search_module, "NARROW_AT_MOST", 0)
    every = {name for name, *_ in RUNS}
    assert set(names(client, filter)) == (every if expected is None else expected)


def test_run_id_and_experiment_scope(client: Client, runs: dict[str, str]) -> None:
    wanted = [runs["forest-3"], runs["other"]]
    quoted = ", ".join(f"'{i}'" for i in wanted)
    page = client.tracking.search_runs(None, f"attributes.run_id IN ({quoted})")
    assert {r.id for r in page.runs} == set(wanted)  # no experiment named: every experiment
    both = client.tracking.search_runs(["search", "elsewhere"], "params.max_depth = '6'")
    assert {r.name for r in both.runs} == {"forest-6", "boost-6", "other"}
    found = client.tracking.search_runs(["search"], "metrics.auc > 0.9").runs
    assert [r.metrics["auc"] for r in found] == [0.91]
    assert found[0].params["model"] == "RandomForest"
    assert found[0].tags == {"team": "risk"}


def test_order_by_metrics_params_and_attributes(client: Client, runs: dict[str, str]) -> None:
    # runs without the value sort last in either direction
    assert names(client, order_by=["metrics.auc"]) == ["boost-6", "forest-3", "forest-6", "linear"]
    assert names(client, order_by=["metrics.auc DESC"]) == [
        "forest-6",
        "forest-3",
        "boost-6",
        "linear",
    ]
    # ties broken by the next key, then newest first
    assert names(client, order_by=["params.max_depth DESC", "metrics.auc DESC"]) == [
        "forest-6",
        "boost-6",
        "forest-3",
        "linear",
    ]
    assert names(client, order_by=["params.max_depth"]) == [
        "forest-3",
        "boost-6",
        "forest-6",
        "linear",
    ]
    assert names(client, order_by=["attributes.run_name"]) == [
        "boost-6",
        "forest-3",
        "forest-6",
        "linear",
    ]
    assert names(client, order_by=["start_time ASC"]) == [name for name, *_ in RUNS]
    assert names(client) == [name for name, *_ in reversed(RUNS)]  # default: newest first


def test_pages_cover_every_run_once_in_order(client: Client, runs: dict[str, str]) -> None:
    order = ["metrics.auc DESC"]
    whole = names(client, order_by=order, max_results=100)
    seen: list[str] = []
    token = None
    for _ in range(10):
        page = client.tracking.search_runs(
            ["search"], order_by=order, max_results=3, page_token=token
        )
        seen.extend(r.name for r in page.runs)
        token = page.next_page_token
        if token is None:
            break
    assert seen == whole
    first = client.tracking.search_runs(["search"], order_by=order, max_results=3)
    assert first.next_page_token is not None
    with pytest.raises(InvalidInput) as other_query:
        client.tracking.search_runs(["search"], max_results=3, page_token=first.next_page_token)
    assert other_query.value.field == "page_token"
    for forged in ("garbage!", "e30", "eyJvZmZzZXQiOi0xLCJxdWVyeSI6IngifQ"):
        with pytest.raises(InvalidInput) as bad:
            client.tracking.search_runs(["search"], order_by=order, page_token=forged)
        assert bad.value.field == "page_token"


def _paged(client: Client, order: list[str], size: int, experiment: str = "search") -> list[str]:
    seen: list[str] = []
    token = None
    for _ in range(50):
        page = client.tracking.search_runs(
            [experiment], order_by=order, max_results=size, page_token=token
        )
        seen.extend(r.name for r in page.runs)
        token = page.next_page_token
        if token is None:
            return seen
    raise AssertionError("pages did not end")


@pytest.fixture(scope="module")
def keyset_runs(client: Client) -> str:
    """The module's runs again in an experiment of their own, with two ties (the same auc,
    the same max_depth) left running (no end_time); the experiment's name."""
    _seed(client, "keyset")
    for name, auc in (("tie-a", 0.82), ("tie-b", 0.82)):
        run = client.start_run(experiment="keyset", name=name, params={"max_depth": "6"})
        run.log_metric("auc", auc)
    return "keyset"


@pytest.mark.parametrize(
    "order",
    [
        [],
        ["metrics.auc ASC"],
        ["metrics.auc DESC", "params.max_depth ASC"],
        ["params.max_depth DESC"],
        ["params.model ASC", "tags.team DESC"],
        ["tags.team ASC"],
        ["attributes.start_time ASC"],
        ["attributes.end_time DESC"],
        ["attributes.status ASC", "attributes.run_name DESC"],
        ["tags.mlflow.runName ASC"],
        ["attributes.run_id DESC"],
    ],
)
def test_keyset_pages_follow_every_order_with_ties_and_missing_values(
    client: Client, keyset_runs: str, order: list[str]
) -> None:
    # ties, a run without metrics or tags, a run not ended: every run once, in the order
    # of the one-page answer
    page = client.tracking.search_runs([keyset_runs], order_by=order, max_results=100)
    whole = [r.name for r in page.runs]
    assert len(whole) == 6
    for size in (1, 2, 5):
        assert _paged(client, order, size, keyset_runs) == whole


def test_a_run_started_between_pages_neither_repeats_nor_hides_a_run(client: Client) -> None:
    _seed(client, "between")  # its own experiment: the module's world is shared
    first = client.tracking.search_runs(["between"], max_results=2)
    client.start_run(experiment="between", name="newer").end()
    rest = client.tracking.search_runs(
        ["between"], max_results=100, page_token=first.next_page_token
    )
    shown = [r.name for r in first.runs] + [r.name for r in rest.runs]
    assert shown == [name for name, *_ in reversed(RUNS)]  # the newer run sorts before page 1


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"filter": "metrics.auc >"}, "filter"),
        ({"filter": "metrics.auc > 1 or params.x = 'y'"}, "filter"),
        ({"filter": "attributes.start_time > 1e300"}, "filter"),
        ({"order_by": ["metrics.auc upward"]}, "order_by.0"),
        ({"max_results": 0}, "max_results"),
        ({"max_results": 50_001}, "max_results"),
        ({"experiments": ["search", "bad name!"]}, "experiments.1"),
    ],
)
def test_bad_search_input_names_the_field(
    client: Client, runs: dict[str, str], arguments: dict[str, object], field: str
) -> None:
    call = {"experiments": ["search"]} | arguments
    with pytest.raises(InvalidInput) as caught:
        client.transport.call("tracking.search_runs", **call)
    assert caught.value.field == field


def test_unknown_experiment_is_not_found(client: Client, runs: dict[str, str]) -> None:
    with pytest.raises(NotFound) as caught:
        client.tracking.search_runs(["search", "missing"])
    assert caught.value.field == "experiments.1"


def test_a_bad_filter_is_a_400_naming_filter_and_position(
    api_server: LiveServer, admin_key: str
) -> None:
    response = httpx.post(
        f"{api_server.url}/api/v1/runs/search",
        json={"filter": "metrics.auc > 0.8 and params.depth > '6'"},
        headers={"Authorization": f"Bearer {admin_key}"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "filter"
    assert "at position 36" in error["message"]
