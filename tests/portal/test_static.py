"""Static files in production: ``collectstatic`` with the manifest storage, then served by whitenoise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SERVE = """
import django
from django.conf import settings
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client

django.setup()
assert not settings.DEBUG
assert settings.STORAGES["staticfiles"]["BACKEND"].endswith("ManifestStaticFilesStorage")
call_command("collectstatic", interactive=False, verbosity=0)
client = Client(HTTP_HOST="localhost")
for name in ("portal/portal.css", "vendor/htmx-2.0.8.min.js", "vendor/chart-4.5.1.umd.min.js"):
    url = static(name)
    assert url != "/static/" + name, url  # the hashed name from the manifest
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert "immutable" in response["Cache-Control"], response["Cache-Control"]
print("served")
"""


@pytest.mark.timeout(120)
def test_collectstatic_builds_the_manifest_and_whitenoise_serves_the_hashed_files(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DEBUG", "STATIC_", "AWS_", "PORTAL_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DEBUG="0",
        SECRET_KEY="collectstatic-test-key-" + "x" * 40,
        PORTAL_VAR_DIR=str(tmp_path),
        AWS_MODE="live",
    )
    result = subprocess.run(
        [sys.executable, "-c", SERVE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=110
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "served" in result.stdout
    manifest = json.loads((tmp_path / "staticfiles" / "staticfiles.json").read_text())
    assert "vendor/chart-4.5.1.umd.min.js" in manifest["paths"]
