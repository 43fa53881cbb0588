"""The inventory sync's tasks go to SYNC_QUEUE (their own worker pool in production); the others stay put."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
django.setup()
from portal.celery import app
names = ["domains.run_inventory_sync", "domains.sync_account_region", "profiles.sync_domain_members",
         "onboarding.provision_profile", "costs.ingest_payer"]
print(json.dumps({name: app.amqp.router.route({}, name)["queue"].name for name in names}))
"""


def routes(**env: str) -> dict[str, str]:
    # Settings are read once at start: a fresh process per environment.
    inherited = {key: value for key, value in os.environ.items() if key not in ("SYNC_QUEUE", "COST_QUEUE")}
    environment = {**inherited, "DJANGO_SETTINGS_MODULE": "portal.settings", **env}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_sync_tasks_go_to_their_own_queue_when_one_is_set() -> None:
    routed = routes(SYNC_QUEUE="sync", COST_QUEUE="costs")
    assert routed["domains.run_inventory_sync"] == "sync"
    assert routed["domains.sync_account_region"] == "sync"
    assert routed["profiles.sync_domain_members"] == "sync"
    assert routed["onboarding.provision_profile"] == "celery"


def test_one_box_keeps_every_task_on_the_default_queue() -> None:
    assert set(routes().values()) == {"celery"}
