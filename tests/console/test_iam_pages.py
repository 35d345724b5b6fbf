"""The console's IAM pages in a real browser: a principal's tags, groups, limits and state
changed from its page; groups, roles, a policy's versions (diff, default, delete); the
simulator with condition keys; a model version's card (markup in its fields stays text)
and four-eyes state; principals and groups deleted (after a confirmation), the groups list
a page at a time, a role created from a trust list and assumed for a session key shown
once; and the same writes refused for a principal that may only read.

Every write goes through the API's own operations; the test reads the outcome back through
the API. Screenshots go under the test's tmp dir (the path is printed).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.console.conftest import READY, ConsoleServer
from tests.console.test_pages import Api, goto, login, main_text, no_failure

MARKUP = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
VIEWER_POLICY = {
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["iam:List*", "iam:Get*", "audit:List*"],
            "Resource": "*",
        }
    ]
}
ASSUME_POLICY = {"Statement": [{"Effect": "Allow", "Action": "iam:AssumeRole", "Resource": "*"}]}


@pytest.fixture(scope="module")
def api(console_server: ConsoleServer) -> Api:
    return Api(console_server.url, console_server.seeded.admin_key)


@pytest.fixture(scope="module")
def world(api: Api, console_server: ConsoleServer) -> dict[str, str]:
    """IAM things of this file's own (names start "iam-"), made through the API."""
    api("POST", "/principals", json={"name": "iam-ann", "tags": {"team": "ml"}})
    api("POST", "/principals/iam-ann/keys", json={"expires_in": "30d"})
    api("POST", "/groups", json={"group": "iam-team"})
    api("POST", "/groups", json={"group": "iam-other"})
    api("POST", "/groups/iam-team/policies", json={"policy": "DatasetsReadOnly"})
    trust = {"Statement": [{"Effect": "Allow", "Principal": ["iam-ann"]}]}
    api("POST", "/roles", json={"role": "iam-role", "trust_policy": trust})
    for action in ("datasets:GetDataset", "datasets:ListDatasets"):
        document = {"Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}
        api("PUT", "/policies/iam-versioned", json={"document": document})
    api("POST", "/models", json={"name": "iam-card-model"})
    api("PATCH", "/models/iam-card-model", json={"four_eyes": True})
    run_id = console_server.seeded.run_id
    api("POST", "/models/iam-card-model/versions", json={"run_id": run_id})
    api("POST", "/principals", json={"name": "iam-viewer"})
    api("PUT", "/policies/iam-viewer-policy", json={"document": VIEWER_POLICY})
    api("POST", "/principals/iam-viewer/policies", json={"policy": "iam-viewer-policy"})
    viewer = api("POST", "/principals/iam-viewer/keys")["token"]
    api("POST", "/principals", json={"name": "iam-doomed"})
    doomed = api("POST", "/principals/iam-doomed/keys")["token"]
    api("POST", "/groups", json={"group": "iam-gone"})
    api("POST", "/groups/iam-gone/members", json={"principal": "iam-doomed"})
    api("PUT", "/policies/iam-assume-only", json={"document": ASSUME_POLICY})
    keys = {}
    for name in ("iam-assumer", "iam-stranger"):
        api("POST", "/principals", json={"name": name})
        api("POST", f"/principals/{name}/policies", json={"policy": "iam-assume-only"})
        keys[name] = api("POST", f"/principals/{name}/keys")["token"]
    return {
        "viewer_key": viewer,
        "doomed_key": doomed,
        "assumer_key": keys["iam-assumer"],
        "stranger_key": keys["iam-stranger"],
    }


def _groups(api: Api) -> dict[str, Any]:
    return {g["name"]: g for g in api("GET", "/groups", params={"limit": 1000})["items"]}


def _principals(api: Api) -> dict[str, Any]:
    return {p["name"]: p for p in api("GET", "/principals", params={"limit": 1000})["items"]}


def _status(page: Any, form: str) -> str:
    """The message under action form ``form`` (a class), once one is shown."""
    page.wait_for_selector(f"main .{form} + .form-status .notice")
    return str(page.inner_text(f"main .{form} + .form-status"))


def _confirm(page: Any, form: str) -> None:
    """Ask for the destructive action of form ``form`` and say yes."""
    page.click(f"main .{form} button.danger")
    page.click(f"main .{form} button.confirm")


def _redrawn(page: Any, text: str, where: str = "main") -> None:
    """Wait until the page is drawn again holding ``text``."""
    page.wait_for_function(
        """([where, text]) => { const m = document.querySelector('main[data-ready="1"]');
               const box = document.querySelector(where);
               return m !== null && box !== null && box.innerText.includes(text); }""",
        arg=[where, text],
    )


def test_an_administrator_manages_iam_from_the_console(
    page: Any, console_server: ConsoleServer, api: Api, world: dict[str, str], tmp_path: Path
) -> None:
    problems = login(page, console_server.url, console_server.seeded.admin_key)

    # A principal: tags, groups, policies, boundary, keys with expiry, limits, state.
    goto(page, "#/principals/iam-ann")
    no_failure(page)
    text = main_text(page)
    assert "team" in page.inner_text("main .tags") and "ml" in page.inner_text("main .tags")
    assert "Permission boundary" in text and "Member of: none" in text
    keys = page.inner_text("main .key-list")
    (key,) = api("GET", "/principals/iam-ann/keys")["items"]
    assert "Expires" in keys and key["expires_at"][:19].replace("T", " ") in keys
    assert "Requests today" in page.inner_text("main .limits")
    page.screenshot(path=str(tmp_path / "principal.png"), full_page=True)

    page.fill("#tag-new", "stage=dev")
    page.click("main .tag-add button[type=submit]")
    _redrawn(page, "stage", "main .tags")
    assert api("GET", "/principals/iam-ann/tags")["tags"] == {"stage": "dev", "team": "ml"}
    page.click('main .untag[data-key="team"] button[type=submit]')
    page.wait_for_selector('main .untag[data-key="team"]', state="detached")
    assert api("GET", "/principals/iam-ann/tags")["tags"] == {"stage": "dev"}

    page.select_option("#group-choice", "iam-team")
    page.click("main .group-add button[type=submit]")
    _redrawn(page, "Member of: iam-team", "main .groups")
    assert _groups(api)["iam-team"]["members"] == ["iam-ann"]

    page.fill("#limit-rate", "5")
    page.fill("#limit-burst", "10")
    page.fill("#limit-quota", "1000")
    page.click("main .limits-set button[type=submit]")
    _redrawn(page, "its own", "main .limits")
    limits = api("GET", "/principals/iam-ann/limits")
    assert (limits["requests_per_second"], limits["burst"], limits["daily_quota"]) == (5, 10, 1000)
    page.fill("#limit-burst", "2")  # a burst without a rate: refused, named, nothing changed
    page.click("main .limits-set button[type=submit]")
    page.wait_for_selector("main .limits .notice-error")
    assert "burst" in page.inner_text("main .limits .notice-error")
    assert api("GET", "/principals/iam-ann/limits")["burst"] == 10

    def ann() -> Any:
        return next(p for p in api("GET", "/principals")["items"] if p["name"] == "iam-ann")

    page.fill("#policy-attach", "DatasetsReadOnly")
    page.click("main .policy-attach button[type=submit]")
    page.wait_for_selector('main .detach[data-policy="DatasetsReadOnly"]')
    assert ann()["policies"] == ["DatasetsReadOnly"]
    page.click('main .detach[data-policy="DatasetsReadOnly"] button[type=submit]')
    page.wait_for_selector('main .detach[data-policy="DatasetsReadOnly"]', state="detached")
    assert ann()["policies"] == []
    page.fill("#boundary-policy", "DatasetsReadOnly")
    page.click("main .boundary-set button[type=submit]")
    page.wait_for_selector("main .boundary-remove")
    assert ann()["boundary"] == "DatasetsReadOnly"
    page.click("main .boundary-remove button[type=submit]")
    page.wait_for_selector("main .boundary-set")
    assert ann()["boundary"] is None

    page.click("main .principal-status button[type=submit]")
    _redrawn(page, "disabled", "main h1")
    assert ann()["disabled"]
    page.click("main .principal-status button[type=submit]")
    _redrawn(page, "active", "main h1")
    assert not ann()["disabled"]

    # Groups and roles.
    goto(page, "#/groups")
    assert "iam-team" in main_text(page) and "DatasetsReadOnly" in main_text(page)
    goto(page, "#/groups/iam-other")
    page.fill("#member-new", "iam-ann")
    page.click("main .member-add button[type=submit]")
    _redrawn(page, "iam-ann", "main section")
    assert _groups(api)["iam-other"]["members"] == ["iam-ann"]
    page.click("main section .remove button[type=submit]")
    page.wait_for_selector("main section .remove", state="detached")
    assert _groups(api)["iam-other"]["members"] == []
    goto(page, "#/roles")
    assert "iam-role" in main_text(page)
    goto(page, "#/roles/iam-role")
    assert "iam-ann" in main_text(page) and "12 hours" in main_text(page)
    no_failure(page)

    # A policy's versions: the diff, the default moved back, the policy deleted.
    goto(page, "#/policies/iam-versioned")
    no_failure(page)
    assert "datasets:ListDatasets" in page.inner_text("main pre.diff .diff-add")
    assert "datasets:GetDataset" in page.inner_text("main pre.diff .diff-del")
    page.screenshot(path=str(tmp_path / "policy-versions.png"), full_page=True)
    page.click('main .make-default[data-version="1"] button[type=submit]')
    _redrawn(page, "v1", "main dl.facts")
    policy = next(p for p in api("GET", "/policies")["items"] if p["name"] == "iam-versioned")
    assert policy["default_version"] == 1
    page.click("main .policy-delete button[type=submit]")
    page.wait_for_function("() => location.hash === '#/principals'")
    names = {p["name"] for p in api("GET", "/policies")["items"]}
    assert "iam-versioned" not in names

    # The simulator with a condition key: the group's policy decides.
    goto(page, "#/simulator?principal=iam-ann")
    page.fill("#sim-action", "datasets:GetDataset")
    page.fill("#sim-resource", f"sy:dataset/{console_server.seeded.dataset.split('@')[0]}")
    page.fill("#sim-context-key-0", "sy:SourceIp")
    page.fill("#sim-context-value-0", "10.0.0.7")
    page.click("main form button[type=submit]")
    page.wait_for_selector("main .decision")
    decision = page.inner_text("main .decision")
    assert "may datasets:GetDataset" in decision
    assert "Decided by iam-team/DatasetsReadOnly statement 1" in decision
    assert (
        page.get_attribute("main .decision a.policy-ref", "href") == "#/policies/DatasetsReadOnly"
    )

    # A model version's card and its four-eyes state; markup in a field stays text.
    goto(page, "#/models/iam-card-model/versions/1")
    card = page.inner_text("main .model-card")
    assert "Four-eyes rule on" in card and "Waiting for a second person" in card
    assert "admin" in page.inner_text("main .four-eyes")
    page.fill("#approval-reason", "looks fine")
    page.click("main .approval button.primary")
    page.wait_for_selector("main .approval .notice-error")
    assert "four eyes" in page.inner_text("main .approval .notice-error")
    assert api("GET", "/model-versions/iam-card-model@1")["approval"] == "PendingManualApproval"
    api(
        "POST",
        "/models/iam-card-model/versions/1/approval",
        json={"status": "Rejected", "reason": MARKUP},
    )
    goto(page, "#/models")
    goto(page, "#/models/iam-card-model/versions/1")
    assert MARKUP in page.inner_text("main .model-card")
    assert page.locator("main .model-card img, main .model-card script").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    page.screenshot(path=str(tmp_path / "model-card.png"), full_page=True)
    print(f"screenshots: {tmp_path}")
    assert problems == []


def test_an_administrator_deletes_principals_and_groups(
    page: Any, console_server: ConsoleServer, api: Api, world: dict[str, str]
) -> None:
    for number in range(101):  # more groups than the list shows at first
        api.http.post("/groups", json={"group": f"zz-paged-{number:03d}"})
    total = len(_groups(api))
    problems = login(page, console_server.url, console_server.seeded.admin_key)

    goto(page, "#/groups")
    assert page.locator("main table.data tbody tr").count() == 100
    page.click("main button.more")
    page.wait_for_function(
        "n => document.querySelectorAll('main table.data tbody tr').length === n", arg=total
    )
    assert "zz-paged-100" in main_text(page) and page.locator("main button.more").count() == 0

    # A group: asked first (Cancel keeps it), then deleted; the list comes back.
    goto(page, "#/groups/iam-gone")
    page.click("main .group-delete button.danger")
    assert "Its 1 member loses its policies" in page.inner_text("main .group-delete")
    page.click("main .group-delete button.cancel")
    assert page.locator("main .group-delete button.confirm").count() == 0
    assert "iam-gone" in _groups(api)
    _confirm(page, "group-delete")
    page.wait_for_function("() => location.hash === '#/groups'")
    assert "iam-gone" not in _groups(api)

    # A principal: deleted with its key, which stops working; the principals list follows.
    bearer = {"Authorization": f"Bearer {world['doomed_key']}"}
    datasets = f"{console_server.url}/api/v1/datasets"
    assert httpx.get(datasets, headers=bearer).status_code == 403  # known, may not
    goto(page, "#/principals/iam-doomed")
    _confirm(page, "principal-delete")
    page.wait_for_function("() => location.hash === '#/principals'")
    assert "iam-doomed" not in _principals(api)
    assert httpx.get(datasets, headers=bearer).status_code == 401  # no longer a key

    # Deleting oneself is refused by the server, and said so under the form.
    goto(page, "#/principals/admin")
    _confirm(page, "principal-delete")
    assert "cannot delete itself" in _status(page, "principal-delete")
    assert "admin" in _principals(api)
    assert page.evaluate("location.hash") == "#/principals/admin"
    assert problems == []


def test_a_role_made_from_a_trust_list_is_assumed_by_whom_it_trusts(
    page: Any, console_server: ConsoleServer, api: Api, world: dict[str, str], tmp_path: Path
) -> None:
    problems = login(page, console_server.url, console_server.seeded.admin_key)
    goto(page, "#/roles")
    page.fill("#role-new", "iam-trusting")
    page.fill("#role-trust", "iam-assumer, ci-*")
    page.fill("#role-condition", '{"IpAddress": ')
    assert "condition: not JSON" in page.inner_text("main pre.trust-preview")
    page.click("main .role-create button[type=submit]")
    assert "condition: not JSON" in _status(page, "role-create")
    assert "iam-trusting" not in _principals(api)
    condition = {"IpAddress": {"sy:SourceIp": "127.0.0.0/8"}}
    page.fill("#role-condition", json.dumps(condition))
    trust = {
        "Statement": [
            {"Effect": "Allow", "Principal": ["iam-assumer", "ci-*"], "Condition": condition}
        ]
    }
    assert json.loads(page.inner_text("main pre.trust-preview")) == trust
    page.click("main .role-create button[type=submit]")
    page.wait_for_function("() => location.hash === '#/roles/iam-trusting'")
    page.wait_for_selector(READY)
    role = _principals(api)["iam-trusting"]
    assert (role["kind"], role["trust_policy"]) == ("role", trust)
    assert "ci-*" in main_text(page)
    api("POST", "/principals/iam-trusting/policies", json={"policy": "DatasetsReadOnly"})

    # The trusted principal (who may assume roles and nothing else) gets a key, shown once.
    page.click("#logout")
    page.wait_for_selector("#login-key")
    login(page, console_server.url, world["assumer_key"])
    goto(page, "#/roles/iam-trusting")
    assert "You may not view this role" in page.inner_text("main .refusal")
    page.select_option("#assume-duration", "15m")
    page.click("main .assume-role button[type=submit]")
    page.wait_for_selector("main .key-once")
    shown = page.inner_text("main .key-once")
    assert "shown once" in shown and "expires" in shown
    token = page.input_value("#session-key")
    assert page.get_attribute("#session-key", "readonly") is not None
    (session,) = api("GET", "/principals/iam-trusting/keys")["items"]
    assert session["assumed_by"] == "iam-assumer" and session["key_id"] in shown
    lasts = datetime.fromisoformat(session["expires_at"]) - datetime.fromisoformat(
        session["created_at"]
    )
    assert timedelta(minutes=14) < lasts <= timedelta(minutes=15)
    kept = page.evaluate(
        "() => location.href + JSON.stringify(localStorage) + JSON.stringify(sessionStorage)"
    )
    assert token not in kept
    as_role = {"Authorization": f"Bearer {token}"}
    found = httpx.get(f"{console_server.url}/api/v1/datasets", headers=as_role)
    assert found.status_code == 200 and found.json()["items"]
    page.screenshot(path=str(tmp_path / "role-session.png"), full_page=True)
    goto(page, "#/datasets")
    goto(page, "#/roles/iam-trusting")
    assert page.locator("main .key-once").count() == 0  # gone once the page is left

    # A principal the trust policy does not name is refused under the form, and gets nothing.
    page.click("#logout")
    page.wait_for_selector("#login-key")
    login(page, console_server.url, world["stranger_key"])
    goto(page, "#/roles/iam-trusting")
    page.click("main .assume-role button[type=submit]")
    refused = _status(page, "assume-role")
    assert "You may not assume iam-trusting" in refused and "iam-stranger" in refused
    assert page.locator("main .key-once").count() == 0
    assert len(api("GET", "/principals/iam-trusting/keys")["items"]) == 1
    print(f"screenshots: {tmp_path}")
    assert problems == []


def test_a_principal_without_iam_rights_is_refused(
    page: Any, console_server: ConsoleServer, api: Api, world: dict[str, str], tmp_path: Path
) -> None:
    login(page, console_server.url, console_server.seeded.analyst_key)
    for route, words in [
        ("#/principals/iam-ann", "You may not view this principal"),
        ("#/groups", "You may not list groups"),
        ("#/roles", "You may not list roles"),
        ("#/policies/DatasetsReadOnly", "You may not view this policy"),
    ]:
        goto(page, route)
        refusal = page.locator("main .refusal")
        assert refusal.count() == 1, main_text(page)
        assert words in refusal.inner_text()
        assert page.locator("main table.data, main .tags, main .key-list").count() == 0
    page.screenshot(path=str(tmp_path / "refused-pages.png"), full_page=True)

    # May read IAM, may not change it: the page shows, each write is refused and changes nothing.
    page.click("#logout")
    page.wait_for_selector("#login-key")
    login(page, console_server.url, world["viewer_key"])
    goto(page, "#/principals/iam-ann")
    no_failure(page)
    before = api("GET", "/principals/iam-ann/tags")["tags"]
    page.fill("#tag-new", "owner=mallory")
    page.click("main .tag-add button[type=submit]")
    page.wait_for_selector("main .tag-add + .form-status .notice-error")
    assert "You may not tag iam-ann" in page.inner_text("main .tag-add + .form-status")
    assert api("GET", "/principals/iam-ann/tags")["tags"] == before
    page.click("main .principal-status button[type=submit]")
    page.wait_for_selector("main .principal-status + .form-status .notice-error")
    assert "You may not disable iam-ann" in page.inner_text("main .principal-status + .form-status")
    ann = next(p for p in api("GET", "/principals")["items"] if p["name"] == "iam-ann")
    assert ann["disabled"] is False
    _confirm(page, "principal-delete")
    assert "You may not delete iam-ann" in _status(page, "principal-delete")
    assert "iam-ann" in _principals(api)
    goto(page, "#/groups/iam-team")
    _confirm(page, "group-delete")
    assert "You may not delete iam-team" in _status(page, "group-delete")
    assert "iam-team" in _groups(api)
    goto(page, "#/roles")
    page.fill("#role-new", "iam-sneaky")
    page.fill("#role-trust", "iam-viewer")
    page.click("main .role-create button[type=submit]")
    assert "You may not create a role" in _status(page, "role-create")
    assert "iam-sneaky" not in _principals(api)
    page.screenshot(path=str(tmp_path / "refused-writes.png"), full_page=True)
    print(f"screenshots: {tmp_path}")
