"""A production install carries no AWS sandbox: no ``awssandbox`` code, no moto, no flask, and the portal imports
none of them when ``AWS_MODE=live``.

The fast test imports every module of the portal's apps in a subprocess of this virtual environment (where the
sandbox is installed) and checks what got imported. The real install (a fresh virtual environment, ``pip install .``
with its dependencies, as the Docker image does) takes a minute or more, so it runs only when
``PORTAL_INSTALL_TEST=1`` (``.ci/run`` sets it in a step of its own).
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("portal", "domains", "profiles", "costs", "onboarding", "changesets", "governance")
# What only the sandbox needs (the `sandbox` extra) and the sandbox itself.
SANDBOX_ONLY = ("awssandbox", "moto", "flask", "flask_cors", "werkzeug", "responses", "xmltodict", "authlib")

# Imports every module of the apps that are there, then reports what of the sandbox got imported or is importable.
PROBE = f"""
import importlib, importlib.util, json, pkgutil, sys
import django
django.setup()
modules = 0
for app in {APPS!r}:
    if importlib.util.find_spec(app) is None:
        continue
    package = importlib.import_module(app)
    for info in pkgutil.walk_packages(package.__path__, app + "."):
        importlib.import_module(info.name)
        modules += 1
from django.conf import settings
forbidden = {SANDBOX_ONLY!r}
print(json.dumps({{
    "aws_mode": settings.AWS_MODE,
    "modules": modules,
    "imported": sorted(name for name in sys.modules if name.split(".")[0] in forbidden),
    "installed": sorted(name for name in forbidden if importlib.util.find_spec(name) is not None),
    "apps": sorted(app for app in {APPS!r} if importlib.util.find_spec(app) is not None),
}}))
"""


def live_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DJANGO_", "PYTHON"))}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        AWS_MODE="live",
        AWS_DEFAULT_REGION="us-east-1",
        DEBUG="0",
        SECRET_KEY="production-install-test",
        PORTAL_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    env.pop("REDIS_URL", None)
    return env


def probe(python: str, cwd: Path, env: dict[str, str]) -> dict[str, object]:
    result = subprocess.run([python, "-c", PROBE], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_in_live_mode_no_module_of_the_portal_imports_the_sandbox(tmp_path: Path) -> None:
    found = probe(sys.executable, ROOT, live_env(tmp_path))
    assert found["aws_mode"] == "live"
    assert found["modules"] > 100  # it did import the apps' modules
    assert "awssandbox" in found["installed"] and "moto" in found["installed"]  # here they could have been imported
    assert found["imported"] == []


def test_the_probe_sees_an_import_of_the_sandbox(tmp_path: Path) -> None:
    env = live_env(tmp_path)
    command = "import awssandbox.faults, moto, json, sys; print(json.dumps(sorted(m for m in sys.modules if m in {})))"
    result = subprocess.run(
        [sys.executable, "-c", command.format(set(SANDBOX_ONLY))], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert {"awssandbox", "moto"} <= set(json.loads(result.stdout))


def test_the_docker_context_leaves_the_sandbox_out() -> None:
    ignored = [line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()]
    ignored = [pattern for pattern in ignored if pattern and not pattern.startswith("#")]
    assert any(fnmatch.fnmatch("awssandbox", pattern) for pattern in ignored)
    lock = (ROOT / "requirements.lock").read_text().lower()
    for name in ("moto", "flask", "flask-cors", "werkzeug", "authlib"):
        assert f"\n{name}==" not in lock, f"{name} is pinned in requirements.lock, which the image installs"


def _source_copy(target: Path) -> Path:
    """The project's files as a checkout has them (the sandbox included: the packaging must leave it out)."""
    skip = {".git", "var", "node_modules", "build", "dist", "__pycache__"}

    def ignore(directory: str, names: list[str]) -> set[str]:
        return {n for n in names if n in skip or n.startswith(".venv") or n.endswith((".egg-info", ".pyc"))}

    shutil.copytree(ROOT, target, ignore=ignore)
    return target


@pytest.mark.install
@pytest.mark.skipif(
    os.environ.get("PORTAL_INSTALL_TEST") != "1", reason="the real install takes minutes: PORTAL_INSTALL_TEST=1"
)
def test_pip_install_dot_in_a_fresh_environment_has_no_sandbox(tmp_path: Path) -> None:
    source = _source_copy(tmp_path / "source")
    assert (source / "awssandbox" / "__init__.py").exists()
    environment = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(environment)
    python = str(environment / "bin" / "python")
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(source)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    outside = tmp_path / "elsewhere"  # not the source tree: only what was installed can be imported
    outside.mkdir()
    found = probe(python, outside, live_env(tmp_path))
    assert found["aws_mode"] == "live"
    assert {"portal", "domains", "profiles", "costs", "onboarding"} <= set(found["apps"])
    assert found["modules"] > 100
    assert found["installed"] == [] and found["imported"] == []
    listed = subprocess.run([python, "-m", "pip", "list", "--format", "json"], capture_output=True, text=True)
    names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert not names & {"moto", "flask", "flask-cors", "werkzeug", "responses", "authlib"}
    # The command-line client comes with the project.
    assert (environment / "bin" / "smgp").exists()
