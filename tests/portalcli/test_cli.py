"""The ``smgp`` command-line client against a live test server: it talks to the REST API only, with a token."""

from __future__ import annotations

import csv
import io
import json
import stat
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from django.utils import timezone

from costs.models import SpendRollup
from governance.models import Finding
from onboarding import services
from onboarding.models import ProfileRequest
from portal.apitokens import do_create_token
from portal.models import ApiToken, TaskRun
from portalcli.main import cli
from tests.factories import TEST_PASSWORD
from tests.onboarding.world import World, build_world

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(aws_sandbox: None) -> World:
    return build_world()


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    config = tmp_path / "smgp" / "config.json"
    monkeypatch.setenv("SMGP_CONFIG", str(config))
    monkeypatch.delenv("SMGP_URL", raising=False)
    monkeypatch.delenv("SMGP_TOKEN", raising=False)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Any:
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    invoke.config = config  # type: ignore[attr-defined]
    return invoke


def logged_in(run: Any, live_server: Any, user: Any) -> None:
    _, key = do_create_token(user, name="cli test", actor=user)
    answer = run("login", "--url", live_server.url, "--token", key)
    assert answer.exit_code == 0, answer.output


def test_login_checks_the_token_and_stores_it_for_its_owner_only(run: Any, live_server: Any, world: World) -> None:
    refused = run("login", "--url", live_server.url, "--token", "smgp_wrong")
    assert refused.exit_code == 1 and "Invalid token" in refused.output
    assert not run.config.exists()

    logged_in(run, live_server, world.approver)

    assert stat.S_IMODE(run.config.stat().st_mode) == 0o600
    assert json.loads(run.config.read_text())["url"] == live_server.url


def test_login_with_a_password_makes_a_named_token(run: Any, live_server: Any, world: World) -> None:
    answer = run(
        "login", "--url", live_server.url, "--username", "arjun", "--name", "laptop", input=f"{TEST_PASSWORD}\n"
    )
    assert answer.exit_code == 0, answer.output
    token = ApiToken.objects.get(user=world.approver)
    assert token.name == "laptop" and token.last_used_at is not None


def test_a_command_before_login_says_what_to_do(run: Any) -> None:
    answer = run("domains", "list")
    assert answer.exit_code == 1 and "smgp login" in answer.output


def test_it_lists_and_filters_domains_profiles_and_spaces(run: Any, live_server: Any, world: World) -> None:
    logged_in(run, live_server, world.admin)

    table = run("domains", "list")
    assert table.exit_code == 0 and all(name in table.output for name in ("research", "risk", "other"))
    only_sso = json.loads(run("domains", "list", "--auth-mode", "SSO", "--format", "json").output)
    assert [d["name"] for d in only_sso] == ["risk"]

    profiles = list(csv.DictReader(io.StringIO(run("profiles", "list", "--format", "csv").output)))
    assert "leila" in {p["name"] for p in profiles}
    research = json.loads(run("profiles", "list", "--domain", world.research.domain_id, "--format", "json").output)
    assert research and {p["domain_id"] for p in research} == {world.research.domain_id}
    assert run("spaces", "list", "--limit", "1").exit_code == 0


def test_a_scientist_sees_only_their_share(run: Any, live_server: Any, world: World) -> None:
    logged_in(run, live_server, world.outsider)
    assert {d["name"] for d in json.loads(run("domains", "list", "--format", "json").output)} == {"other"}


def test_people_list_shows_explicit_columns_and_filters_like_the_api(run: Any, live_server: Any, world: World) -> None:
    from domains import people as directory
    from domains.models import Person

    leila = directory.person_for_login(world.lead)
    Person.objects.filter(pk=leila.pk).update(status=Person.Status.LEFT, left_at=timezone.now(), email="leila@ex.com")
    directory.person_for_login(world.scientist)
    logged_in(run, live_server, world.admin)
    answer = run("people", "list", "--status", "left", "--format", "csv")
    assert answer.exit_code == 0, answer.output
    rows = list(csv.DictReader(io.StringIO(answer.output)))
    assert list(rows[0]) == ["id", "name", "status", "email", "login", "profiles", "domains"]
    assert [(r["name"], r["status"], r["login"], r["profiles"], r["domains"]) for r in rows] == [
        (leila.display_name, "left", "leila", "leila", "research")
    ]
    assert rows[0]["email"] == "leila@ex.com" and rows[0]["id"] == str(leila.pk)
    everyone = {r["login"] for r in csv.DictReader(io.StringIO(run("people", "list", "--format", "csv").output))}
    assert {"leila", "maria"} <= everyone
    by_name = list(csv.DictReader(io.StringIO(run("people", "list", "--q", "mari", "--format", "csv").output)))
    assert [r["login"] for r in by_name] == ["maria"]
    in_research = run("people", "list", "--domain", world.research.domain_id, "--format", "csv").output
    assert [r["login"] for r in csv.DictReader(io.StringIO(in_research))] == ["leila"]
    other = run("people", "list", "--domain", world.other.domain_id)
    assert other.exit_code == 0 and "Nothing to list (People)" in other.output
    table = run("people", "list", "--status", "left").output
    assert "profiles" in table and "domains" in table and "research" in table
    raw = json.loads(run("people", "list", "--status", "left", "--format", "json").output)
    assert raw[0]["profiles"][0]["domain_name"] == "research"  # JSON stays the API's answer
    refused = run("people", "list", "--status", "gone")
    assert refused.exit_code == 2 and "gone" in refused.output


def test_it_lists_findings_by_severity(run: Any, live_server: Any, world: World) -> None:
    now = timezone.now()
    for severity, name in (("high", "open-bucket"), ("low", "small-thing")):
        Finding.objects.create(
            check_id="SE-01",
            domain=world.research,
            resource_arn=f"{world.research.arn}/{name}",
            resource_kind="domain",
            resource_name=name,
            severity=severity,
            first_seen=now,
            last_seen=now,
        )
    logged_in(run, live_server, world.approver)
    high = json.loads(run("findings", "list", "--severity", "high", "--format", "json").output)
    assert "open-bucket" in {f["resource_name"] for f in high} and "small-thing" not in {
        f["resource_name"] for f in high
    }
    assert "open-bucket" in run("findings", "list").output


def test_an_approver_approves_and_rejects_requests(run: Any, live_server: Any, world: World) -> None:
    first = services.do_submit_profile_request(
        actor=world.scientist, person=world.scientist, domain=world.research, template=world.persona
    )
    logged_in(run, live_server, world.approver)
    listed = json.loads(run("requests", "list", "--status", "submitted", "--format", "json").output)
    assert first.pk in {r["id"] for r in listed}

    approved = run("requests", "approve", str(first.pk))

    assert approved.exit_code == 0, approved.output
    assert ProfileRequest.objects.get(pk=first.pk).status != "submitted"
    second = services.do_submit_space_request(actor=world.lead, **world.space_fields())
    rejected = run("requests", "reject", str(second.pk), "--kind", "space", "--reason", "Use the team space")
    assert rejected.exit_code == 0 and "rejected" in rejected.output
    again = run("requests", "reject", str(second.pk), "--kind", "space", "--reason", "again")
    assert again.exit_code == 1 and "400" in again.output


def test_someone_else_cannot_approve(run: Any, live_server: Any, world: World) -> None:
    req = services.do_submit_profile_request(
        actor=world.scientist, person=world.scientist, domain=world.research, template=world.persona
    )
    logged_in(run, live_server, world.outsider)
    answer = run("requests", "approve", str(req.pk))
    assert answer.exit_code == 1 and "Not found" in answer.output
    assert ProfileRequest.objects.get(pk=req.pk).status == "submitted"


def test_costs_summary_as_table_csv_and_json(run: Any, live_server: Any, world: World) -> None:
    today = timezone.localdate()
    SpendRollup.objects.create(
        payer=world.research.account,
        period="month",
        start=today.replace(day=1),
        level="domain",
        domain_arn=world.research.arn,
        key_arn=world.research.arn,
        domain=world.research,
        amount=Decimal("12.34"),
    )
    logged_in(run, live_server, world.finance)
    assert "12.34" in run("costs", "summary", "--by", "domain").output
    rows = list(csv.DictReader(io.StringIO(run("costs", "summary", "--format", "csv").output)))
    assert {"name": "research", "amount": "12.34", "share": "100.0"}.items() <= rows[0].items()
    body = json.loads(run("costs", "summary", "--by", "profile", "--format", "json").output)
    assert body["group"] == "profile"
    bad = run("costs", "summary", "--by", "team")
    assert bad.exit_code == 2


def test_sync_start_follows_the_run_until_it_ends(run: Any, live_server: Any, world: World) -> None:
    logged_in(run, live_server, world.approver)

    def worker() -> None:  # what a Celery worker does to the run's row, step by step
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = TaskRun.objects.filter(kind="inventory_sync", status="queued", trigger="api").first()
            if found:
                TaskRun.objects.filter(pk=found.pk).update(status="running", steps_total=2, steps_done=1)
                time.sleep(0.5)
                TaskRun.objects.filter(pk=found.pk).update(status="succeeded", steps_done=2, message="2 domains")
                return
            time.sleep(0.1)

    thread = threading.Thread(target=worker)
    thread.start()
    answer = run("sync", "start", "--domain", world.research.domain_id, "--interval", "0.2")
    thread.join()

    assert answer.exit_code == 0, answer.output
    assert "queued" in answer.output and "succeeded" in answer.output
    refused = run("sync", "start", "--domain", world.other.domain_id, "--no-follow")
    assert refused.exit_code == 1 and "Not found" in refused.output
