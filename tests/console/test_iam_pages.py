"""The console's IAM pages in a real browser: a principal's tags, groups, limits and state
changed from its page; groups, roles, a policy's versions (diff, default, delete); the
simulator with condition keys; a model version's card (markup in its fields stays text)
and four-eyes state; and the same writes refused for a principal that may only read.

Every write goes through the API's own operations; the test reads the outcome back through
the API. Screenshots go under the test's tmp dir (the path is printed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.console.conftest import ConsoleServer
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
    return {"viewer_key": viewer}


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
    team = next(g for g in api("GET", "/groups") if g["name"] == "iam-team")
    assert team["members"] == ["iam-ann"]

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
    other = next(g for g in api("GET", "/groups") if g["name"] == "iam-other")
    assert other["members"] == ["iam-ann"]
    page.click("main section .remove button[type=submit]")
    page.wait_for_selector("main section .remove", state="detached")
    assert next(g for g in api("GET", "/groups") if g["name"] == "iam-other")["members"] == []
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
    page.screenshot(path=str(tmp_path / "refused-writes.png"), full_page=True)
    print(f"screenshots: {tmp_path}")
