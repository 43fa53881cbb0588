import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_choice, env_int, env_list, env_optional, env_str

ROOT = Path(__file__).resolve().parents[2]


def test_it_reads_a_secret_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t\n")
    monkeypatch.setenv("PORTAL_TEST_SECRET_FILE", str(secret))
    assert env_str("PORTAL_TEST_SECRET") == "s3cr3t"


def test_it_refuses_both_a_value_and_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("x")
    monkeypatch.setenv("PORTAL_TEST_SECRET", "y")
    monkeypatch.setenv("PORTAL_TEST_SECRET_FILE", str(secret))
    with pytest.raises(ImproperlyConfigured, match="either PORTAL_TEST_SECRET or PORTAL_TEST_SECRET_FILE"):
        env_str("PORTAL_TEST_SECRET")


def test_it_names_an_unreadable_secret_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PORTAL_TEST_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        env_str("PORTAL_TEST_SECRET")


def test_it_requires_a_variable_without_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTAL_TEST_MISSING", raising=False)
    with pytest.raises(ImproperlyConfigured, match="PORTAL_TEST_MISSING is required"):
        env_str("PORTAL_TEST_MISSING")
    assert env_optional("PORTAL_TEST_MISSING") is None


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("TRUE", True), ("on", True), ("no", False), ("0", False)])
def test_it_reads_booleans(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("PORTAL_TEST_FLAG", raw)
    assert env_bool("PORTAL_TEST_FLAG", not expected) is expected


def test_it_refuses_a_boolean_typo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_TEST_FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match="'ture' is not a boolean"):
        env_bool("PORTAL_TEST_FLAG", False)


def test_it_checks_whole_numbers_and_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_TEST_N", "ten")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("PORTAL_TEST_N", 1)
    monkeypatch.setenv("PORTAL_TEST_N", "0")
    with pytest.raises(ImproperlyConfigured, match="below the minimum of 1"):
        env_int("PORTAL_TEST_N", 5, minimum=1)
    monkeypatch.setenv("PORTAL_TEST_N", "7")
    assert env_int("PORTAL_TEST_N", 5, minimum=1) == 7


def test_it_reads_lists_and_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_TEST_LIST", "a.example, b.example,,")
    assert env_list("PORTAL_TEST_LIST", []) == ["a.example", "b.example"]
    monkeypatch.setenv("PORTAL_TEST_MODE", "Live")
    assert env_choice("PORTAL_TEST_MODE", "sandbox", ("sandbox", "live")) == "live"
    monkeypatch.setenv("PORTAL_TEST_MODE", "prod")
    with pytest.raises(ImproperlyConfigured, match="'prod' is not one of: sandbox, live"):
        env_choice("PORTAL_TEST_MODE", "sandbox", ("sandbox", "live"))


def _import_settings(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {"PATH": "/usr/bin:/bin", "PORTAL_VAR_DIR": str(tmp_path), **env}
    code = "import portal.settings as s; print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.AWS_MODE)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True)


def test_settings_refuse_to_start_without_a_secret_key_outside_debug(tmp_path: Path) -> None:
    result = _import_settings({}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_settings_default_to_the_embedded_stack(tmp_path: Path) -> None:
    result = _import_settings({"DEBUG": "1"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://", "sandbox"]


def test_settings_take_postgres_and_redis_from_the_environment(tmp_path: Path) -> None:
    result = _import_settings(
        {"SECRET_KEY": "x", "DATABASE_URL": "postgres://u@db:5432/portal", "REDIS_URL": "redis://cache:6379/0"},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "redis://cache:6379/0", "sandbox"]


def test_settings_refuse_a_sandbox_endpoint_in_live_mode(tmp_path: Path) -> None:
    result = _import_settings(
        {"SECRET_KEY": "x", "AWS_MODE": "live", "AWS_ENDPOINT_URL": "http://127.0.0.1:5055"}, tmp_path
    )
    assert result.returncode != 0
    assert "must be unset when AWS_MODE=live" in result.stderr


def test_settings_refuse_a_heartbeat_timeout_a_waiting_task_could_not_keep(tmp_path: Path) -> None:
    result = _import_settings({"DEBUG": "1", "PROVISION_POLL_SECONDS": "30", "PROVISION_STALE_SECONDS": "60"}, tmp_path)
    assert result.returncode != 0
    assert "PROVISION_STALE_SECONDS (60) must be more than twice PROVISION_POLL_SECONDS (30)" in result.stderr
