"""Fixtures shared by the whole suite: the AWS sandbox, a real Celery worker, and headless Chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection

import awssandbox
from portal.aws import gateway
from portal.sandboxing import demo_inputs

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Each test starts with an empty cache (the readiness page caches the AWS answer; login throttling counts)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_rate_budget() -> Iterator[None]:
    """Each test starts with full, unadapted rate budgets."""
    from portal.ratebudget import budget

    budget.use(None)
    budget.store().clear()
    yield
    budget.use(None)


@pytest.fixture
def aws_sandbox(settings: Any) -> Iterator[None]:
    """The AWS sandbox in process: every boto3 client the gateway makes talks to it; state starts empty."""
    settings.AWS_MODE = "sandbox"
    settings.AWS_ENDPOINT_URL = None
    gateway().clear()
    with awssandbox.running():
        yield
    gateway().clear()


@pytest.fixture
def fast_aws_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's retries keep their logic but wait milliseconds, not seconds, between attempts."""
    from botocore.retries.standard import ExponentialBackoff

    monkeypatch.setitem(ExponentialBackoff._DEFAULT_BACKOFF_CONFIG, "throttling_base_scale", 0.005)
    monkeypatch.setitem(ExponentialBackoff._DEFAULT_BACKOFF_CONFIG, "non_throttling_base_scale", 0.005)


@pytest.fixture
def sandbox_server(settings: Any) -> Iterator[str]:
    """The AWS sandbox as an HTTP server in this process (so another process can reach it); yields its URL."""
    from awssandbox import limits
    from awssandbox.server import ThreadedSandbox, reset_backends

    reset_backends()
    server = ThreadedSandbox(demo=demo_inputs()).start()
    settings.AWS_MODE = "sandbox"
    settings.AWS_ENDPOINT_URL = server.url
    gateway().clear()
    try:
        yield server.url
    finally:
        server.stop()
        reset_backends()
        limits.registry.reset()  # a reset keeps limits on or off; the next test starts with them off
        gateway().clear()


class WorkerProcess:
    """A real ``celery worker`` process on the configured broker, reading the test database: one process with the
    ``solo`` pool, or a main process and its pool children with ``prefork``. It runs in a session of its own, so
    that :meth:`kill` takes the whole worker down at once, as a machine that dies would."""

    def __init__(self, env: dict[str, str], log_path: Path, pool: str = "solo") -> None:
        self.hostname = f"test-{uuid.uuid4().hex[:8]}@localhost"
        self.log_path = log_path
        self.log = log_path.open("wb")
        command = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", pool, "--loglevel", "INFO"]
        command += ["--hostname", self.hostname, "--without-gossip", "--without-mingle", "--without-heartbeat"]
        if pool == "prefork":
            command += ["--concurrency", "1"]
        self.process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL to the main process and its pool children together: no task gets to finish or acknowledge."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture
def start_worker(transactional_db: None, tmp_path: Path) -> Iterator[Any]:
    """Start Celery worker processes (with extra environment variables) against the real broker and the test
    database; all are stopped after the test."""
    from portal.celery import app

    app.control.purge()  # a queue left over from an earlier run must not feed this worker
    workers: list[WorkerProcess] = []

    def start(pool: str = "solo", **extra_env: str) -> WorkerProcess:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PORTAL_TEST_DATABASE_NAME": str(connection.settings_dict["NAME"]),
            "AWS_MODE": django_settings.AWS_MODE,
            "AWS_ENDPOINT_URL": django_settings.AWS_ENDPOINT_URL or "",
            **extra_env,
        }
        worker = WorkerProcess(env, tmp_path / f"worker{len(workers)}.log", pool=pool)
        workers.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in workers:
            worker.stop()


@pytest.fixture
def celery_worker_process(start_worker: Any) -> WorkerProcess:
    """One Celery worker process against the real broker and the test database; stopped after the test."""
    return start_worker()


def chromium_path() -> str | None:
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (never a downloaded browser)."""
    executable = chromium_path()
    if executable is None:
        message = (
            "Chromium is not installed, so browser tests cannot run. Install it with "
            "'sudo apt-get install chromium' (Debian/Ubuntu) or point CHROMIUM_PATH at a Chromium binary."
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser page (own cookies) with ``page.base_url`` set to the live server. Every browser test is also a
    test of the Content-Security-Policy: anything the policy refused on any page fails it."""
    context = chromium.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.base_url = live_server.url
    refused: list[str] = []
    page.csp_violations = refused
    page.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield page
    context.close()
    assert refused == [], "the Content-Security-Policy refused something on a page"
