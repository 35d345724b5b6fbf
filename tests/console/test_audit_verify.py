"""The audit page's Verify button, in Chromium, against its own ``shipyard server``: the
server's sealer chains the events on its own, the verdict says intact, and after a database
user edits a sealed event the verdict names it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.console.conftest import (
    READY,
    free_port,
    login_through_page,
    start_server,
    stop_server,
)

from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import bootstrap, context_for, create_principal, issue_admin_key_if_none


@pytest.fixture
def sealing_server(tmp_path: Path) -> Iterator[tuple[str, str, sa.Engine]]:
    """A fresh home with a few audited changes, served with a 0.2 s sealing period."""
    home = tmp_path / "home"
    platform = Platform.open(Settings(home=home))
    try:
        bootstrap(platform)
        admin = issue_admin_key_if_none(platform)
        assert admin is not None
        for name in ("ana", "ben", "cy"):
            create_principal(context_for(platform, "admin"), name)
    finally:
        platform.close()
    port = free_port()
    process = start_server(home, port, audit_seal_seconds="0.2")
    engine = sa.create_engine(f"sqlite:///{home / 'shipyard.db'}")
    try:
        yield f"http://127.0.0.1:{port}", admin.token, engine
    finally:
        engine.dispose()
        stop_server(process)


def test_verify_button_shows_the_verdict(
    browser: Any, sealing_server: tuple[str, str, sa.Engine], screenshot_dir: Path
) -> None:
    url, key, engine = sealing_server
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        login_through_page(page, key)
        page.goto("/#/audit")
        page.wait_for_selector(READY)
        unsealed = sa.text("SELECT count(*) FROM audit_events WHERE seq IS NULL")
        deadline = time.monotonic() + 30
        with engine.connect() as connection:  # the server's sealer seals, not the verify
            while connection.execute(unsealed).scalar() != 0:
                assert time.monotonic() < deadline, "the server's sealer did not run"
                connection.rollback()
                time.sleep(0.05)
        page.get_by_role("button", name="Verify").click()
        verdict = page.locator("#audit-verdict .notice-ok")
        verdict.filter(has_text="Intact:").wait_for()
        assert re.search(
            r"Intact: \d+ events? chained, \d+ signed checkpoints?", verdict.inner_text()
        )
        with engine.begin() as connection:
            connection.execute(sa.text("DROP TRIGGER audit_events_no_update"))
            connection.execute(sa.text("UPDATE audit_events SET outcome = 'denied' WHERE seq = 2"))
            forged = connection.execute(sa.text("SELECT id FROM audit_events WHERE seq = 2"))
            event_id = forged.scalar()
        page.get_by_role("button", name="Verify").click()
        broken = page.locator("#audit-verdict .notice-error")
        broken.wait_for()
        text = broken.inner_text()
        assert f"Broken at seq 2 (event #{event_id})" in text
        assert "was edited" in text and "1 event intact before it" in text
        assert errors == []
    finally:
        page.screenshot(path=str(screenshot_dir / "audit-verify.png"), full_page=True)
        context.close()
