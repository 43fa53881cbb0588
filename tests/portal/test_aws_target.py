"""Sandbox mode without the sandbox's address refuses to start, instead of calling the real AWS endpoints; beside a
running demo, manage.py takes the demo's environment from var/demo.env."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.aws import call_counter, gateway
from portal.demo_env import env_path, load_demo_env, read_demo_env, remove_demo_env, write_demo_env

ROOT = Path(__file__).resolve().parents[2]


def clean_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """This process's environment without the portal's settings: a shell where nothing is configured."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "AWS_", "PORTAL_", "DATABASE_", "DEBUG", "CELERY_"))
    }
    env.update(DJANGO_SETTINGS_MODULE="portal.settings", PORTAL_VAR_DIR=str(var_dir), DEBUG="1", **extra)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.timeout(90)
def test_sync_aws_in_sandbox_mode_without_an_endpoint_refuses_at_once(tmp_path: Path) -> None:
    started = time.monotonic()
    result = manage("sync_aws", env=clean_env(tmp_path))
    assert result.returncode != 0
    assert "portal.E001" in result.stderr and "AWS_ENDPOINT_URL is not set" in result.stderr
    assert "manage.py sandbox" in result.stderr  # the message names the fix
    assert time.monotonic() - started < 15  # no 15 s of retries against the real STS
    assert not (tmp_path / "portal.sqlite3").exists()  # it never opened the database: no failed run recorded


@pytest.mark.timeout(90)
def test_the_web_tier_refuses_to_start_in_sandbox_mode_without_an_endpoint(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import portal.wsgi"],
        cwd=ROOT,
        env=clean_env(tmp_path, SECRET_KEY="k" * 50),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: AWS_MODE=sandbox but AWS_ENDPOINT_URL is not set" in result.stderr


def test_workers_and_beat_refuse_to_start_in_sandbox_mode_without_an_endpoint(settings: Any) -> None:
    from portal.celery import _refuse_a_wrong_aws_target

    settings.AWS_MODE, settings.AWS_ENDPOINT_URL, settings.AWS_SANDBOX_IN_PROCESS = "sandbox", None, False
    with pytest.raises(ImproperlyConfigured, match="AWS_ENDPOINT_URL is not set"):
        _refuse_a_wrong_aws_target()
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:5055"
    _refuse_a_wrong_aws_target()
    settings.AWS_MODE, settings.AWS_ENDPOINT_URL = "live", None
    _refuse_a_wrong_aws_target()


def test_the_gateway_never_builds_a_sandbox_client_for_the_real_endpoints(settings: Any) -> None:
    settings.AWS_MODE, settings.AWS_ENDPOINT_URL, settings.AWS_SANDBOX_IN_PROCESS = "sandbox", None, False
    gateway().clear()
    before = call_counter.total()
    try:
        with pytest.raises(ImproperlyConfigured, match="AWS_ENDPOINT_URL is not set"):
            gateway().caller_identity()
    finally:
        gateway().clear()
    assert call_counter.total() == before


@pytest.mark.timeout(120)
def test_manage_py_beside_a_running_demo_uses_its_environment(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    write_demo_env(
        tmp_path,
        {
            "DEBUG": "1",
            "DATABASE_URL": database,
            "CELERY_BROKER_URL": "filesystem://",
            "AWS_MODE": "sandbox",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:5999",
            "PORTAL_BASE_URL": "http://127.0.0.1:8123",
        },
        pid=os.getpid(),  # this test process plays the running demo
    )
    assert oct(env_path(tmp_path).stat().st_mode & 0o777) == "0o600"
    env = clean_env(tmp_path)
    del env["DEBUG"]  # the demo's file brings DEBUG too, so no SECRET_KEY is needed
    show = "from django.conf import settings as s; print(s.AWS_ENDPOINT_URL, s.PORTAL_BASE_URL, s.DATABASE_URL)"
    result = manage("shell", "-c", show, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["http://127.0.0.1:5999", "http://127.0.0.1:8123", database]
    assert "Using the running demo's" in result.stderr
    assert manage("check", env=env).returncode == 0  # the AWS check passes: the demo's sandbox is the target
    # A variable that is set wins over the file.
    result = manage("shell", "-c", show, env={**env, "PORTAL_BASE_URL": "https://portal.example.com"})
    assert result.stdout.splitlines()[-1].split()[1] == "https://portal.example.com"


def test_a_file_left_by_a_demo_that_died_is_ignored(tmp_path: Path) -> None:
    write_demo_env(tmp_path, {"AWS_ENDPOINT_URL": "http://127.0.0.1:5999"}, pid=dead_pid())
    assert read_demo_env(tmp_path) == {}
    environ: dict[str, str] = {}
    assert load_demo_env(environ, tmp_path) == [] and environ == {}


def test_live_mode_never_takes_the_demos_sandbox(tmp_path: Path) -> None:
    write_demo_env(tmp_path, {"AWS_ENDPOINT_URL": "http://127.0.0.1:5999"}, pid=os.getpid())
    environ = {"AWS_MODE": "live"}
    assert load_demo_env(environ, tmp_path) == [] and environ == {"AWS_MODE": "live"}


def test_the_demo_removes_only_its_own_file(tmp_path: Path) -> None:
    write_demo_env(tmp_path, {"AWS_ENDPOINT_URL": "http://127.0.0.1:5999"}, pid=os.getpid())
    remove_demo_env(tmp_path, pid=os.getpid() + 1)
    assert env_path(tmp_path).exists()
    remove_demo_env(tmp_path, pid=os.getpid())
    assert not env_path(tmp_path).exists()
