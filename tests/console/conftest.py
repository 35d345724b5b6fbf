"""The console under test: a real ``shipyard server`` over a seeded home, and a real Chromium.

Session fixtures (made once per pytest worker):

- ``console_home``: a Shipyard home holding the quickstart's dataset (breast cancer), one
  training run, model ``bc-model`` with version 1 (approved, alias ``champion``) and version
  2 (pending approval), endpoint ``bc-endpoint`` serving version 1, an admin key and the key
  of ``analyst``, who may read datasets and nothing else.
- ``console_server``: ``python -m shipyard server`` on a free 127.0.0.1 port over that home.
- ``browser``: the system Chromium (Debian package ``chromium``) driven by Playwright,
  launched with no downloads and no network beyond 127.0.0.1. Without it the browser tests
  skip, or fail when ``SHIPYARD_REQUIRE_SERVICES=1``.

Per test: ``page`` is a fresh browser context (no cookies) and page; its screenshot is saved
under ``screenshot_dir`` when the test ends (the path is printed). ``login_through_page``
signs in with the page's form; ``login_by_fetch`` posts the key from inside the page (no
form needed).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import service_unavailable
from tests.fixtures.lifecycle import ingest_breast_cancer, lightgbm_spec

from shipyard.client import Client
from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import bootstrap, issue_admin_key_if_none

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY = 'main[data-ready="1"]'
ANALYST_POLICY = {
    "Statement": [
        {"Effect": "Allow", "Action": ["datasets:Get*", "datasets:List*"], "Resource": "*"}
    ]
}


@dataclass(frozen=True)
class Seeded:
    """What ``console_home`` holds, by name."""

    home: Path
    admin_key: str
    analyst_key: str
    dataset: str
    run_id: str
    model: str
    endpoint: str


@dataclass(frozen=True)
class ConsoleServer:
    url: str
    port: int
    seeded: Seeded


def seed_home(home: Path, work: Path) -> Seeded:
    """Fill ``home`` as the quickstart would, through the SDK in-process."""
    settings = Settings(home=home)
    platform = Platform.open(settings)
    try:
        bootstrap(platform)
        admin = issue_admin_key_if_none(platform)
        assert admin is not None
    finally:
        platform.close()
    with Client(settings=settings) as client:
        dataset = ingest_breast_cancer(client, work)
        job = client.training.train(lightgbm_spec(dataset, experiment="console"), timeout=180)
        assert job.run_id is not None
        first = client.models.register("bc-model", job.run_id)
        client.models.register("bc-model", job.run_id)
        client.models.set_approval("bc-model", first.version, "Approved")
        client.models.set_alias("bc-model", "champion", first.version)
        client.endpoints.create("bc-endpoint", "bc-model@champion")
        client.iam.create_principal("analyst")
        client.iam.put_policy("DatasetsReadOnly", ANALYST_POLICY)
        client.iam.attach_policy("analyst", "DatasetsReadOnly")
        analyst = client.iam.create_api_key("analyst").token
        assert analyst is not None
    return Seeded(home, admin.token, analyst, dataset, job.run_id, "bc-model", "bc-endpoint")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_environment(home: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["SHIPYARD_HOME"] = str(home)
    env["SHIPYARD_SCHEDULER_IN_SERVER"] = "false"
    env.update({f"SHIPYARD_{name.upper()}": value for name, value in settings.items()})
    return env


def start_server(home: Path, port: int, **settings: str) -> subprocess.Popen[str]:
    """``shipyard server`` on ``port``; returns once ``/healthz`` answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "shipyard", "server", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=server_environment(home, **settings),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read() if process.stderr else ""
            pytest.fail(f"shipyard server exited with {process.returncode}: {stderr}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    pytest.fail("shipyard server did not answer within 120 s")


def stop_server(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if process.stderr is not None:
        process.stderr.close()


@pytest.fixture(scope="session")
def console_home(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    root = tmp_path_factory.mktemp("console")
    return seed_home(root / "home", root)


@pytest.fixture(scope="session")
def console_server(console_home: Seeded) -> Iterator[ConsoleServer]:
    port = free_port()
    process = start_server(console_home.home, port)
    yield ConsoleServer(f"http://127.0.0.1:{port}", port, console_home)
    stop_server(process)


def _launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module; skips (or fails under CI) without it. Not per session:
    Playwright's sync API keeps an event loop running in this thread while it is open, and
    later test files of the same worker call ``asyncio.run``."""
    if not CHROMIUM.exists():
        service_unavailable(f"{CHROMIUM} is missing (apt-get install chromium; `make test` does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_unavailable("the playwright package is missing (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = _launch(playwright)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("console-screenshots")
    print(f"\nconsole screenshots: {directory}")
    return directory


@pytest.fixture
def page(
    browser: Any, console_server: ConsoleServer, screenshot_dir: Path, request: Any
) -> Iterator[Any]:
    """A page in a fresh context (no cookies); screenshotted when the test ends."""
    context = browser.new_context(
        base_url=console_server.url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    opened = context.new_page()
    yield opened
    shot = screenshot_dir / f"{request.node.name}.png"
    try:
        opened.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
    finally:
        context.close()


def login_through_page(page: Any, key: str) -> None:
    """Sign in with the console's own form, and wait until the first page is drawn."""
    page.goto("/")
    page.fill("#login-key", key)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("header nav:not([hidden])")
    page.wait_for_selector(READY)


def login_by_fetch(page: Any, key: str) -> dict[str, Any]:
    """Sign in from inside the page with ``fetch`` (what the form does), without the form."""
    page.goto("/")
    answer: dict[str, Any] = page.evaluate(
        """async (key) => {
            const r = await fetch('/console/session', {
                method: 'POST', headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({key}),
            });
            return {status: r.status, body: await r.json()};
        }""",
        key,
    )
    return answer


@pytest.fixture(scope="session")
def console_url(console_server: ConsoleServer) -> str:
    return console_server.url


@pytest.fixture(scope="session")
def admin_key(console_home: Seeded) -> str:
    """The seeded home's admin key (this package's tests share one server and home)."""
    return console_home.admin_key


@pytest.fixture(scope="session")
def reader_key(console_home: Seeded) -> str:
    """``analyst``'s key: may read datasets and nothing else."""
    return console_home.analyst_key
