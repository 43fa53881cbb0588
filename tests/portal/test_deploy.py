"""Production settings pass ``manage.py check --deploy`` without a single warning."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def production_environment(tmp_path: Path) -> dict[str, str]:
    """The environment docker-compose.yml gives the portal's containers, with a real secret file."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    environment = {key: str(value) for key, value in compose["x-portal"]["environment"].items()}
    secret = tmp_path / "django_secret_key"
    secret.write_text("e" + os.urandom(48).hex())
    environment["SECRET_KEY_FILE"] = str(secret)
    environment["PORTAL_VAR_DIR"] = str(tmp_path / "var")
    return environment


def check_deploy(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``manage.py check --deploy`` in a process that sees only ``environment`` of the portal's settings."""
    ours = ("DJANGO_", "AWS_", "PORTAL_", "DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SECURE_", "SESSION_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(ours)}
    env.update(environment, DJANGO_SETTINGS_MODULE="portal.settings")
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
    )


@pytest.mark.timeout(120)
def test_check_deploy_is_clean_with_the_production_settings(tmp_path: Path) -> None:
    environment = production_environment(tmp_path)
    assert environment["AWS_MODE"] == "live" and "DEBUG" not in environment
    result = check_deploy(environment)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.timeout(120)
def test_check_deploy_warns_without_the_tls_settings(tmp_path: Path) -> None:
    """The test above would pass for a check that never runs: without HSTS and HTTPS it must warn."""
    environment = production_environment(tmp_path)
    for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE"):
        environment.pop(name)
    result = check_deploy(environment)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012"):
        assert warning in result.stderr
