"""The test settings keep the suite's AWS defaults, and a worker process started beside the tests (their
start_worker, the inventory benchmark) takes the sandbox server's address, retries and rate budget it is given."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOW = (
    "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({"
    "'endpoint': s.AWS_ENDPOINT_URL, 'mode': s.AWS_RETRY_MODE, 'attempts': s.AWS_MAX_ATTEMPTS, "
    "'store': s.AWS_RATE_BUDGET_STORE, 'sagemaker': [s.AWS_RATE_BUDGETS['sagemaker'].rate, "
    "s.AWS_RATE_BUDGETS['sagemaker'].burst], 'ce': s.AWS_RATE_BUDGETS['ce'].rate}))"
)


def settings_in_a_new_process(tmp_path: Path, **env: str) -> dict[str, object]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "DJANGO_"))}
    clean.update(DJANGO_SETTINGS_MODULE="tests.settings", PORTAL_VAR_DIR=str(tmp_path), **env)
    result = subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, object] = json.loads(result.stdout.splitlines()[-1])
    return answer


def test_without_aws_variables_the_suite_keeps_its_in_process_sandbox_and_unbounded_budget(tmp_path: Path) -> None:
    assert settings_in_a_new_process(tmp_path) == {
        "endpoint": None,
        "mode": "standard",
        "attempts": 3,
        "store": "local",
        "sagemaker": [100_000, 100_000],
        "ce": 100_000,
    }


def test_a_worker_takes_the_sandbox_address_retries_and_budget_from_its_environment(tmp_path: Path) -> None:
    answer = settings_in_a_new_process(
        tmp_path,
        AWS_ENDPOINT_URL="http://127.0.0.1:5999",
        AWS_RETRY_MODE="adaptive",
        AWS_MAX_ATTEMPTS="8",
        AWS_RATE_BUDGET_STORE="redis",
        AWS_RATE_BUDGETS="sagemaker=15/30",
    )
    # The sizes named replace production's defaults one by one; the others stay production's (ce 5/s).
    assert answer == {
        "endpoint": "http://127.0.0.1:5999",
        "mode": "adaptive",
        "attempts": 8,
        "store": "redis",
        "sagemaker": [15.0, 30],
        "ce": 5.0,
    }
