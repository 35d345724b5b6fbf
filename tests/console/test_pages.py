"""The console in a real browser: sign in, every page with the seeded data, the write
actions, and a principal refused where its policies say no.

Fixtures (from the console conftest): ``console_url`` (a live control plane serving the
console), ``admin_key``, ``reader_key`` (may only read datasets) and ``page`` (a Playwright
page on the system Chromium). The tests find their targets through the API, and make the
few preconditions a seed may lack (a version awaiting approval, a second variant, a
rollout under way) through the API too, so they run against any seeded home.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

READY = 'main[data-ready="1"]'
# The page drawn is the one the address names (data-route): a new hash alone does not
# clear the last page's data-ready until the router's hashchange handler runs.
DRAWN = """h => { const m = document.querySelector('main[data-ready="1"]');
               return location.hash === h && m !== null && m.dataset.route === h; }"""
DRAWN_ANOTHER = """h => { const m = document.querySelector('main[data-ready="1"]');
               return location.hash !== h && m !== null && m.dataset.route === location.hash; }"""


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("console-screenshots")
    print(f"\nconsole screenshots: {folder}")
    return folder


def login(page: Any, url: str, key: str) -> list[str]:
    """Sign in through the form; from here on, a script error or a CSP violation fails."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if "Content Security Policy" in message.text or message.type == "warning"
            else None
        ),
    )
    page.goto(url + "/")
    page.wait_for_selector("#login-key")
    page.fill("#login-key", key)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("header nav:not([hidden])")
    page.wait_for_selector(READY)
    return problems


def goto(page: Any, hash_route: str) -> None:
    """Navigate inside the app and wait until the page says it has drawn its data."""
    page.evaluate("h => { location.hash = h; }", hash_route)
    page.wait_for_function(DRAWN, arg=hash_route)


def click_and_wait(page: Any, selector: str) -> None:
    before = page.evaluate("location.hash")
    page.click(selector)
    page.wait_for_function(DRAWN_ANOTHER, arg=before)


def main_text(page: Any) -> str:
    return str(page.inner_text("main"))


def no_failure(page: Any) -> None:
    failures = page.locator("main .failure, main .refusal")
    assert failures.count() == 0, failures.first.inner_text()


class Api:
    """The REST API as the admin, to find what to click and to set up preconditions."""

    def __init__(self, url: str, key: str) -> None:
        self.http = httpx.Client(
            base_url=url + "/api/v1", headers={"Authorization": f"Bearer {key}"}, timeout=60
        )

    def __call__(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        assert response.status_code < 400, response.text
        return response.json() if response.content else None


@pytest.fixture(scope="module")
def api(console_url: str, admin_key: str) -> Api:
    return Api(console_url, admin_key)


def test_every_page_shows_the_seeded_data(
    page: Any, console_url: str, admin_key: str, api: Api, shots: Path
) -> None:
    problems = login(page, console_url, admin_key)
    assert page.inner_text("#principal") == "admin"
    datasets = api("GET", "/datasets")["items"]
    models = api("GET", "/models")["items"]
    endpoints = api("GET", "/endpoints")["items"]
    assert datasets and models and endpoints, "the seed has a dataset, a model and an endpoint"

    goto(page, "#/datasets")
    for dataset in datasets[:3]:
        assert dataset["name"] in main_text(page)
    click_and_wait(page, "main table.data tbody tr a")
    no_failure(page)
    name = page.inner_text("main h1")
    version = api("GET", f"/datasets/{name.split()[0]}")
    assert version["columns"][0]["name"] in main_text(page)
    assert page.locator("main .profile-card svg.chart rect.bar").count() > 0
    page.screenshot(path=str(shots / "dataset.png"), full_page=True)

    runs = api("POST", "/runs/search", json={"max_results": 5})["runs"]
    goto(page, "#/runs")
    assert runs[0]["name"] in main_text(page)
    long_run = next(
        (
            r
            for r in api("POST", "/runs/search", json={"max_results": 200})["runs"]
            if any(len(s["steps"]) > 1 for s in api("GET", f"/runs/{r['id']}/metrics"))
        ),
        None,
    )
    if long_run is not None:
        goto(page, f"#/runs/{long_run['id']}")
        no_failure(page)
        assert page.locator("main svg.chart polyline.line").count() > 0
        page.screenshot(path=str(shots / "run.png"), full_page=True)

    # Two runs side by side: pick them in the list, compare.
    if len(runs) >= 2:
        goto(page, "#/runs")
        boxes = page.locator("main table.data tbody input[type=checkbox]")
        boxes.nth(0).check()
        boxes.nth(1).check()
        click_and_wait(page, "main button:has-text('Compare selected')")
        no_failure(page)
        assert page.inner_text("main h1") == "Compare 2 runs"
        headers = page.locator("main section").first.locator("th").all_inner_texts()
        assert len(headers) == 3, headers

    # Sorting asks the server: the address carries the order, and the rows come back in it.
    goto(page, "#/runs")
    click_and_wait(page, "main th button.sort >> text=Run")
    names = page.locator("main table.data tbody tr td:nth-child(2)").all_inner_texts()
    assert names == sorted(names), names
    assert "attributes.name" in page.evaluate("decodeURIComponent(location.hash)")
    no_failure(page)

    tuning = api("GET", "/tuning-jobs", params={"limit": 1})
    if tuning:
        goto(page, f"#/tuning/{tuning[0]['id']}")
        no_failure(page)
        assert page.locator("main svg.chart polyline.pc-line").count() > 0
        page.screenshot(path=str(shots / "tuning.png"), full_page=True)

    model = models[0]
    goto(page, f"#/models/{model['name']}")
    no_failure(page)
    click_and_wait(page, "main table.data tbody tr a")
    no_failure(page)
    kinds = page.locator("main svg.dag .node text.kind").all_text_contents()
    assert "run" in kinds and "model" in kinds, kinds
    page.screenshot(path=str(shots / "model-version.png"), full_page=True)
    # Lineage nodes link to their own pages: dataset -> run -> model.
    if "dataset" in kinds:
        click_and_wait(page, 'main svg.dag a[aria-label^="dataset"]')
        assert page.locator("main h2", has_text="Schema").count() == 1

    goto(page, f"#/endpoints/{endpoints[0]['name']}")
    no_failure(page)
    assert endpoints[0]["variants"][0]["name"] in main_text(page)
    assert page.locator("main svg.chart rect.bar").count() > 0
    page.screenshot(path=str(shots / "endpoint.png"), full_page=True)

    for section, heading in [
        ("experiments", "Experiments"),
        ("tuning", "Tuning jobs"),
        ("models", "Models"),
        ("endpoints", "Endpoints"),
        ("monitors", "Monitors"),
        ("alarms", "Alarms"),
        ("pipelines", "Pipelines"),
        ("cost", "Cost"),
        ("audit", "Audit log"),
        ("principals", "Principals, keys and policies"),
    ]:
        click_and_wait(page, f'header nav a[data-section="{section}"]')
        assert page.inner_text("main h1") == heading
        no_failure(page)
        page.screenshot(path=str(shots / f"{section}.png"), full_page=True)
    assert "iam:CreateApiKey" in main_text(page) or "admin" in main_text(page)

    goto(page, "#/audit?action=iam%3ACreateApiKey")
    rows = page.locator("main table.data tbody tr")
    assert rows.count() > 0
    assert set(page.locator("main table.data tbody tr td:nth-child(4)").all_inner_texts()) == {
        "iam:CreateApiKey"
    }

    # Keyboard: rows take focus, arrows move it, Enter follows the row's link.
    goto(page, "#/models")
    page.focus("main table.data tbody tr")
    page.keyboard.press("Enter")
    page.wait_for_function("location.hash.startsWith('#/models/')")

    # The policy simulator asks the server (iam.simulate) and shows the deciding statement.
    probe = api.http.post(
        "/policy-simulations",
        json={"principal": "admin", "action": "datasets:GetDataset", "resource": "sy:dataset/x"},
    )
    if probe.status_code != 404:
        goto(page, "#/simulator?principal=admin")
        page.fill("#sim-action", "datasets:GetDataset")
        page.fill("#sim-resource", f"sy:dataset/{datasets[0]['name']}")
        page.fill("#sim-context-key-0", "sy:SourceIp")
        page.fill("#sim-context-value-0", "10.0.0.7")
        page.click("main form button[type=submit]")
        page.wait_for_selector("main .decision")
        assert "admin may datasets:GetDataset" in page.inner_text("main .decision")
        assert "AdministratorAccess" in page.inner_text("main .decision")
        page.screenshot(path=str(shots / "simulator.png"), full_page=True)
    assert problems == []


def _pending_version(api: Api) -> tuple[str, int]:
    for model in api("GET", "/models")["items"]:
        for version in api("GET", f"/models/{model['name']}")["versions"]:
            if version["approval"] != "Approved":
                return model["name"], version["version"]
    model = api("GET", "/models")["items"][0]
    version = api("GET", f"/models/{model['name']}")["versions"][-1]
    api(
        "POST",
        f"/models/{model['name']}/versions/{version['version']}/approval",
        json={"status": "PendingManualApproval"},
    )
    return model["name"], version["version"]


def _two_variant_endpoint(api: Api) -> dict[str, Any]:
    endpoints = [e for e in api("GET", "/endpoints")["items"] if not e.get("deployment")]
    for endpoint in endpoints:
        if len(endpoint["variants"]) >= 2:
            return endpoint
    endpoint = endpoints[0]
    first = endpoint["variants"][0]
    return api(
        "POST",
        f"/endpoints/{endpoint['name']}/variants",
        json={"variant": "console-b", "model": f"{first['model']}@{first['model_version']}"},
    )


def _rolling_endpoint(api: Api) -> str:
    for deployment in api("GET", "/deployments", params={"limit": 50}):
        if deployment["status"] == "running":
            return str(deployment["endpoint"])
    endpoint = next(e for e in api("GET", "/endpoints")["items"] if not e.get("deployment"))
    versions = api("GET", f"/models/{endpoint['model']}")["versions"]
    api(
        "POST",
        "/deployments",
        json={
            "endpoint": endpoint["name"],
            "model": f"{endpoint['model']}@{versions[-1]['version']}",
        },
    )
    return str(endpoint["name"])


def test_write_actions(page: Any, console_url: str, admin_key: str, api: Api, shots: Path) -> None:
    problems = login(page, console_url, admin_key)

    name, version = _pending_version(api)
    goto(page, f"#/models/{name}/versions/{version}")
    page.click("main .approval button.primary")
    assert "A reason is required" in page.inner_text("main .approval")
    why = "holdout AUC within 0.01 of the champion"
    page.fill("#approval-reason", why)
    page.click("main .approval button.primary")
    page.wait_for_selector("main .approval .notice-ok")
    stored = api("GET", f"/model-versions/{name}@{version}")
    assert (stored["approval"], stored["approval_reason"]) == ("Approved", why)
    assert stored["approval_by"] == "admin"
    assert "Approved" in page.inner_text("main h1")
    latest = page.inner_text("main .approval-latest")
    assert why in latest and "by admin" in latest
    history = api("GET", f"/models/{name}/versions/{version}/approvals")
    assert (history[-1]["status"], history[-1]["reason"]) == ("Approved", why)
    assert why in main_text(page).split("History", 1)[1]
    events = api("GET", "/audit", params={"action": "registry:UpdateApproval", "limit": 1})
    assert events[0]["resource"].endswith(f"{name}/{version}")
    assert events[0]["detail"]["reason"] == why
    page.screenshot(path=str(shots / "approved.png"), full_page=True)

    endpoint = _two_variant_endpoint(api)
    a, b = (v["name"] for v in endpoint["variants"][:2])
    goto(page, f"#/endpoints/{endpoint['name']}")
    for variant in endpoint["variants"]:
        page.fill(f'main input[data-variant="{variant["name"]}"]', "0")
    page.fill(f'main input[data-variant="{a}"]', "3")
    page.fill(f'main input[data-variant="{b}"]', "1")
    page.click("main .weights button[type=submit]")
    page.wait_for_selector("main .weights .notice-ok")
    split = {
        v["name"]: v["traffic_percent"]
        for v in api("GET", f"/endpoints/{endpoint['name']}")["variants"]
    }
    assert split[a] == pytest.approx(75.0) and split[b] == pytest.approx(25.0)
    assert f"{b}: 25%" in page.locator("main svg.chart").first.text_content()
    page.screenshot(path=str(shots / "traffic-shifted.png"), full_page=True)

    # A refused write says why, and leaves the page as it was.
    for variant in endpoint["variants"]:
        page.fill(f'main input[data-variant="{variant["name"]}"]', "0")
    page.click("main .weights button[type=submit]")
    page.wait_for_selector("main .weights .notice-error")
    assert "weights" in page.inner_text("main .weights .notice-error")
    assert api("GET", f"/endpoints/{endpoint['name']}")["variants"][0]["weight"] > 0

    rolling = _rolling_endpoint(api)
    goto(page, f"#/endpoints/{rolling}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("main .timeline button.danger")
    page.wait_for_selector("main .timeline .notice-ok")
    assert "rolled_back" in page.inner_text("main .timeline")
    latest = api("GET", "/deployments", params={"endpoint": rolling, "limit": 1})[0]
    assert latest["status"] == "rolled_back"
    page.screenshot(path=str(shots / "rolled-back.png"), full_page=True)

    api("POST", "/principals", json={"name": "console-made", "kind": "service"})
    goto(page, "#/principals/console-made")
    page.click("main button.primary")
    page.wait_for_selector("main .key-once")
    token = page.input_value("#new-key")
    assert token.startswith("sy_")
    assert "shown once" in page.inner_text("main .key-once")
    # The key is real: it authenticates (and, with no policy, may do nothing).
    response = httpx.get(
        console_url + "/api/v1/datasets", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
    # Shown once: coming back to the page does not show it again.
    goto(page, "#/principals")
    goto(page, "#/principals/console-made")
    assert page.locator("main .key-once").count() == 0
    assert token not in page.content()

    # Listed by id (never its secret), revoked after a second click, and then refused.
    key_id = token.split("_")[1]
    row = page.locator("main .key-list tr", has_text=key_id)
    assert "active" in row.inner_text()
    listed = api("GET", "/principals/console-made/keys")["items"]
    assert [(k["key_id"], k["prefix"], k["token"]) for k in listed] == [
        (key_id, f"sy_{key_id}_", None)
    ]
    row.locator("button.danger").click()
    (still,) = api("GET", "/principals/console-made/keys")["items"]
    assert still["revoked"] is False  # asked first
    row.locator("button.confirm").click()
    page.wait_for_selector("main .key-list + .form-status .notice-ok")
    assert "revoked" in page.locator("main .key-list tr", has_text=key_id).inner_text()
    assert api("GET", "/principals/console-made/keys")["items"][0]["revoked"] is True
    response = httpx.get(
        console_url + "/api/v1/datasets", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    page.screenshot(path=str(shots / "key-revoked.png"), full_page=True)
    assert problems == []


def test_a_principal_sees_a_refusal_not_the_data(
    page: Any, console_url: str, reader_key: str, api: Api, shots: Path
) -> None:
    login(page, console_url, reader_key)
    goto(page, "#/datasets")
    dataset = api("GET", "/datasets")["items"][0]["name"]
    assert dataset in main_text(page)
    no_failure(page)

    models = api("GET", "/models")["items"]
    version = api("GET", f"/models/{models[0]['name']}")["versions"][0]
    for route, words in [
        ("#/models", "You may not list models"),
        (
            f"#/models/{models[0]['name']}/versions/{version['version']}",
            "You may not view this model version",
        ),
        ("#/audit", "You may not read the audit log"),
        ("#/principals", "You may not list principals"),
    ]:
        goto(page, route)
        refusal = page.locator("main .refusal")
        assert refusal.count() == 1, main_text(page)
        assert words in refusal.inner_text()
        assert page.locator("main table.data").count() == 0
        assert version["digest"] not in page.content()
    page.screenshot(path=str(shots / "refused.png"), full_page=True)

    # From a page it may read to one it may not: the refusal, and none of the first page.
    goto(page, f"#/datasets/{dataset}")
    assert page.locator("main .profile-card").count() > 0
    page.click('header nav a[data-section="endpoints"]')
    page.wait_for_selector("main .refusal")
    assert "You may not list endpoints" in page.inner_text("main .refusal")
    assert page.locator("main .profile-card, main table.data").count() == 0

    page.click("#logout")
    page.wait_for_selector("#login-note:has-text('Signed out')")
    page.fill("#login-key", "sy_not_a_key")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#login-error:not([hidden])")
    assert "refused" in page.inner_text("#login-error")
    assert page.locator("header nav").is_hidden()


def test_a_long_list_shows_a_page_and_more_on_request(
    page: Any, console_url: str, admin_key: str, api: Api
) -> None:
    for number in range(101):
        api.http.post("/experiments", json={"name": f"paged-{number:03d}"})
    total = len(api("GET", "/experiments", params={"limit": 1000})["items"])
    assert total > 100
    problems = login(page, console_url, admin_key)
    goto(page, "#/experiments")
    rows = page.locator("main table.data tbody tr")
    assert rows.count() == 100  # the first page only
    page.click("main button.more")
    page.wait_for_function(
        "n => document.querySelectorAll('main table.data tbody tr').length === n", arg=total
    )
    assert page.locator("main button.more").count() == 0
    assert "paged-100" in main_text(page)

    # the name filter is the server's: a name past the first page is found, in any case
    api.http.post("/experiments", json={"name": "zzz-needle"})
    goto(page, "#/experiments?q=NEEDLE")
    assert page.locator("main table.data tbody tr").count() == 1
    assert "zzz-needle" in main_text(page) and page.locator("main button.more").count() == 0
    before = page.evaluate("location.hash")
    page.fill("main input[type=search]", "paged-10")
    page.press("main input[type=search]", "Enter")
    page.wait_for_function(DRAWN_ANOTHER, arg=before)
    assert page.locator("main table.data tbody tr").count() == 1
    assert "paged-100" in main_text(page)  # the 101st experiment, not on the first page

    # a key's panel says who issued each key and when it was last used
    goto(page, "#/principals/analyst")
    keys = page.inner_text("main .key-list")
    assert "Issued by" in keys and "Last used" in keys and "admin" in keys
    no_failure(page)
    assert problems == []
