"""Pages of the domains app: scoping (outsiders get 404), empty states, filters, pinned query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from domains.models import AwsAccount
from portal.aws import call_counter
from portal.models import TaskRun
from tests.factories import AppFactory, DomainFactory, SpaceFactory, UserFactory, UserProfileFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    risk, research = DomainFactory(name="risk"), DomainFactory(name="research")
    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
    approver = UserFactory(username="approver")
    grant(approver, "domain_approver", risk)
    outsider = UserFactory(username="outsider")
    grant(outsider, "domain_approver", research)
    return {"risk": risk, "research": research, "admin": admin, "approver": approver, "outsider": outsider}


def login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def test_the_domain_list_shows_only_the_domains_in_scope(client: Client, world: dict[str, Any]) -> None:
    page = login(client, world["approver"]).get(reverse("domains:domain-list")).content.decode()
    assert "risk" in page and "research" not in page


def test_an_outsider_gets_404_on_a_domain_page(client: Client, world: dict[str, Any]) -> None:
    url = reverse("domains:domain-detail", args=[world["risk"].pk])
    assert login(client, world["outsider"]).get(url).status_code == 404
    assert login(Client(), world["approver"]).get(url).status_code == 200


def test_the_domain_page_shows_settings_members_and_running_apps(client: Client, world: dict[str, Any]) -> None:
    risk = world["risk"]
    profile = UserProfileFactory(domain=risk, name="maria-garcia", idle_shutdown="DISABLED")
    SpaceFactory(domain=risk, name="fraud-models", display_name="Fraud models")
    AppFactory(domain=risk, user_profile=profile, instance_type="ml.g5.2xlarge")
    AppFactory(domain=risk, user_profile=profile, status="Deleted", instance_type="ml.p3.2xlarge")
    page = login(client, world["approver"]).get(reverse("domains:domain-detail", args=[risk.pk])).content.decode()
    assert "maria-garcia" in page and "Fraud models" in page
    assert "ml.g5.2xlarge" in page and "ml.p3.2xlarge" not in page  # only running apps
    assert "Sync now" in page  # an approver may sync their domain


def test_accounts_are_for_platform_admins_only(client: Client, world: dict[str, Any]) -> None:
    assert login(client, world["approver"]).get(reverse("domains:account-list")).status_code == 404
    assert login(Client(), world["admin"]).get(reverse("domains:account-list")).status_code == 200


def test_the_account_list_says_what_to_do_when_empty(client: Client) -> None:
    admin = UserFactory(is_superuser=True)
    page = login(client, admin).get(reverse("domains:account-list")).content.decode()
    assert "No AWS account is configured yet" in page


def test_the_domain_list_without_accounts_says_to_add_one(client: Client) -> None:
    admin = UserFactory(is_superuser=True)
    page = login(client, admin).get(reverse("domains:domain-list")).content.decode()
    assert "No AWS account is configured yet" in page


def test_filters_narrow_the_list_and_htmx_gets_only_the_rows(client: Client, world: dict[str, Any]) -> None:
    DomainFactory(name="legacy", studio_experience="classic")
    login(client, world["admin"])
    response = client.get(reverse("domains:domain-list"), {"studio_experience": "classic"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "legacy" in body and "risk" not in body
    assert "<html" not in body  # the fragment, not the page
    assert "HX-Request" in response["Vary"]
    full = client.get(reverse("domains:domain-list"), {"q": "resea"}).content.decode()
    assert "<html" in full and "research" in full and ">risk<" not in full


def test_removed_domains_are_hidden_unless_asked_for(client: Client, world: dict[str, Any]) -> None:
    DomainFactory(name="retired", removed_at="2026-01-01T00:00:00Z")
    login(client, world["admin"])
    assert "retired" not in client.get(reverse("domains:domain-list")).content.decode()
    assert "retired" in client.get(reverse("domains:domain-list"), {"presence": "removed"}).content.decode()


@pytest.mark.parametrize("url_name", ["domains:domain-list", "domains:syncrun-list", "domains:account-list"])
def test_list_pages_keep_a_fixed_number_of_queries_as_rows_grow(
    client: Client, world: dict[str, Any], url_name: str
) -> None:
    login(client, world["admin"])

    def grow(n: int) -> None:
        for _ in range(n):
            domain = DomainFactory()
            UserProfileFactory(domain=domain)
            AppFactory(domain=domain)
            TaskRun.objects.create(
                kind="inventory_sync",
                scope={"domain_arn": domain.arn},
                scope_label="x",
                trigger="user",
                status="succeeded",
                started_by=world["admin"],
            )

    grow(2)
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse(url_name)).status_code == 200
    grow(10)
    with CaptureQueriesContext(connection) as large:
        assert client.get(reverse(url_name)).status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
    assert len(small) <= 12


def test_an_outsider_cannot_start_a_sync_of_another_domain(client: Client, world: dict[str, Any]) -> None:
    response = login(client, world["outsider"]).post(reverse("domains:sync-start"), {"domain": world["risk"].pk})
    assert response.status_code == 404
    assert not TaskRun.objects.exists()


def test_only_admins_start_a_sync_of_everything(client: Client, world: dict[str, Any]) -> None:
    response = login(client, world["approver"]).post(reverse("domains:sync-start"), {})
    assert response.status_code == 404
    assert not TaskRun.objects.exists()


def test_sync_now_queues_a_run_and_shows_its_progress(
    client: Client, world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    login(client, world["approver"])
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("domains:sync-start"), {"domain": world["risk"].pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    run = TaskRun.objects.get()
    assert run.started_by == world["approver"] and run.scope == {"domain_arn": world["risk"].arn}
    assert len(callbacks) == 1  # the task is sent once the transaction commits
    assert f"Inventory sync #{run.pk}" in response.content.decode()
    progress = client.get(reverse("domains:syncrun-progress", args=[run.pk]))
    assert progress.status_code == 200  # still queued: keep polling
    run.status = TaskRun.Status.SUCCEEDED
    run.save()
    assert client.get(reverse("domains:syncrun-progress", args=[run.pk])).status_code == 286


def test_sync_runs_are_not_visible_to_outsiders(client: Client, world: dict[str, Any]) -> None:
    run = TaskRun.objects.create(
        kind="inventory_sync", scope={"domain_arn": world["risk"].arn}, scope_label="risk", trigger="user"
    )
    assert login(client, world["outsider"]).get(reverse("domains:syncrun-detail", args=[run.pk])).status_code == 404
    assert login(Client(), world["approver"]).get(reverse("domains:syncrun-detail", args=[run.pk])).status_code == 200


def test_adding_an_account_checks_access_before_saving(client: Client, aws_sandbox: None) -> None:
    admin = UserFactory(is_superuser=True)
    login(client, admin)
    form = {"account_id": "123456789012", "name": "Sandbox", "regions": "us-east-1, eu-west-1", "enabled": "on"}
    response = client.post(reverse("domains:account-add"), form)
    assert response.status_code == 302
    account = AwsAccount.objects.get()
    assert account.regions == ["us-east-1", "eu-west-1"]
    assert account.verified_identity.startswith("arn:aws:")


def test_adding_an_account_that_the_credentials_do_not_reach_saves_nothing(client: Client, aws_sandbox: None) -> None:
    login(client, UserFactory(is_superuser=True))
    form = {"account_id": "210987654321", "name": "Other", "regions": "us-east-1"}
    body = client.post(reverse("domains:account-add"), form).content.decode()
    assert "reach account 123456789012, not 210987654321" in body
    assert not AwsAccount.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("account_id", "12345", "exactly 12 digits"),
        ("regions", "us-east-1, narnia", "Not an AWS region name: narnia"),
        ("role_arn", "arn:aws:iam::999999999999:role/Portal", "belongs to account 999999999999"),
        ("role_arn", "not-an-arn", "Not an IAM role ARN"),
    ],
)
def test_account_input_is_validated_before_aws_is_called(client: Client, field: str, value: str, message: str) -> None:
    login(client, UserFactory(is_superuser=True))
    form = {"account_id": "123456789012", "name": "X", "regions": "us-east-1", field: value}
    calls = call_counter.total()
    body = client.post(reverse("domains:account-add"), form).content.decode()
    assert message in body
    assert call_counter.total() == calls
    assert not AwsAccount.objects.exists()


def test_an_outsider_gets_404_on_every_account_and_run_page(client: Client, world: dict[str, Any]) -> None:
    account = world["risk"].account
    run = TaskRun.objects.create(
        kind="inventory_sync", scope={"domain_arn": world["risk"].arn}, scope_label="risk", trigger="user"
    )
    login(client, world["outsider"])
    assert client.get(reverse("domains:account-add")).status_code == 404
    assert client.get(reverse("domains:account-edit", args=[account.pk])).status_code == 404
    assert client.post(reverse("domains:account-verify", args=[account.pk])).status_code == 404
    assert client.get(reverse("domains:syncrun-progress", args=[run.pk])).status_code == 404
    assert client.get(reverse("domains:syncrun-list")).content.decode().count(f"#{run.pk}<") == 0


def test_an_admin_edits_an_account_without_a_new_access_check_when_only_the_name_changes(
    client: Client, world: dict[str, Any]
) -> None:
    account = world["risk"].account
    login(client, world["admin"])
    form = {
        "account_id": account.account_id,
        "name": "Risk - production",
        "regions": "us-east-1, eu-west-1",
        "enabled": "on",
    }
    calls = call_counter.total()
    assert client.post(reverse("domains:account-edit", args=[account.pk]), form).status_code == 302
    account.refresh_from_db()
    assert account.name == "Risk - production" and account.regions == ["us-east-1", "eu-west-1"]
    assert call_counter.total() == calls
    from portal.models import AuditEvent

    event = AuditEvent.objects.get(action="account.updated")
    assert event.before["name"] != event.after["name"] and event.actor == world["admin"]


def test_when_a_sync_finishes_the_pages_refresh_their_sync_times(client: Client, world: dict[str, Any]) -> None:
    login(client, world["admin"])
    run = TaskRun.objects.create(kind="inventory_sync", scope_key="all", scope_label="all", trigger="user")
    running = client.get(reverse("domains:syncrun-progress", args=[run.pk]), headers={"HX-Request": "true"})
    assert running.status_code == 200 and "HX-Trigger" not in running
    TaskRun.objects.filter(pk=run.pk).update(status=TaskRun.Status.SUCCEEDED)
    done = client.get(reverse("domains:syncrun-progress", args=[run.pk]), headers={"HX-Request": "true"})
    assert done.status_code == 286 and done["HX-Trigger"] == "run-finished"
    # The list re-reads its rows (with the filters of the address bar), the domain page its "Last sync" card.
    listing = client.get(reverse("domains:domain-list")).content.decode()
    assert '<div hidden hx-get="" hx-trigger="run-finished from:body" hx-target="#results"></div>' in listing
    detail = client.get(reverse("domains:domain-detail", args=[world["risk"].pk])).content.decode()
    assert 'hx-trigger="run-finished from:body" hx-select="#domain-stats"' in detail and 'id="domain-stats"' in detail


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("https://evil.example.com/phish", "/domains/"),
        ("//evil.example.com/phish", "/domains/"),
        ("/accounts/", "/accounts/"),
    ],
)
def test_a_refused_sync_goes_back_only_to_a_page_of_this_site(
    client: Client, world: dict[str, Any], next_url: str, lands_on: str
) -> None:
    response = login(client, world["admin"]).post(
        reverse("domains:sync-start"), {"account": "999999999999", "next": next_url}
    )
    assert response.status_code == 302
    assert response["Location"] == lands_on
    assert not TaskRun.objects.exists()


def test_a_whole_scope_run_is_listed_for_the_people_of_the_domains_it_read(
    client: Client, world: dict[str, Any]
) -> None:
    """Approvers, leads, finance and scientists were told "No sync has run yet" after runs of every account."""
    run = TaskRun.objects.create(
        kind="inventory_sync",
        scope_key="all",
        scope_label="all accounts and regions",
        trigger="schedule",
        status="succeeded",
        domain_arns=[world["risk"].arn],
    )
    scientist, nobody = UserFactory(username="maria"), UserFactory(username="nobody")
    grant(scientist, "data_scientist", world["risk"])
    for user in (world["approver"], scientist):
        listing = login(Client(), user).get(reverse("domains:syncrun-list")).content.decode()
        assert f"#{run.pk}<" in listing
        assert login(Client(), user).get(reverse("domains:syncrun-detail", args=[run.pk])).status_code == 200
    for user in (world["outsider"], nobody):
        listing = login(Client(), user).get(reverse("domains:syncrun-list")).content.decode()
        assert f"#{run.pk}<" not in listing
        assert "the runs that read the domains where you have a role" in listing
        assert "No sync has run yet" not in listing
        assert login(Client(), user).get(reverse("domains:syncrun-detail", args=[run.pk])).status_code == 404
    api = login(Client(), scientist).get("/api/sync-runs/").json()
    assert [r["id"] for r in api["results"]] == [run.pk]


def test_a_run_that_also_read_unseen_domains_does_not_name_them(client: Client, world: dict[str, Any]) -> None:
    run = TaskRun.objects.create(
        kind="inventory_sync",
        scope_key="all",
        scope_label="all accounts and regions",
        trigger="schedule",
        status="partial",
        domain_arns=[world["risk"].arn, world["research"].arn],
        message="Synced research",
        notes=["research was being synced by run #1; this run joined that sync instead of doubling it."],
        errors=[{"scope": f"members of {world['research'].domain_id}", "message": "AccessDenied", "at": "now"}],
    )
    approver = login(Client(), world["approver"])  # risk only
    for url in (reverse("domains:syncrun-detail", args=[run.pk]), reverse("domains:syncrun-progress", args=[run.pk])):
        body = approver.get(url).content.decode()
        assert "research" not in body and world["research"].domain_id not in body and "AccessDenied" not in body
    api = approver.get(f"/api/sync-runs/{run.pk}/").json()
    assert api["notes"] == [] and len(api["errors"]) == 1 and "research" not in str(api)
    listed = approver.get("/api/sync-runs/").json()["results"]
    assert "research" not in str(listed) and listed[0]["id"] == run.pk
    full = login(Client(), world["admin"]).get(reverse("domains:syncrun-detail", args=[run.pk])).content.decode()
    assert "AccessDenied" in full and "joined that sync" in full
    run.refresh_from_db()
    assert run.errors[0]["message"] == "AccessDenied"  # only the display is redacted


def test_only_a_platform_admin_lets_the_portal_write_iam_in_an_account_and_it_is_audited(
    client: Client, world: dict[str, Any]
) -> None:
    from portal.models import AuditEvent

    account = world["risk"].account
    assert account.portal_writes_iam is False  # off by default
    form = {"account_id": account.account_id, "name": account.name, "regions": "us-east-1", "enabled": "on"}
    login(client, world["approver"])
    assert (
        client.post(reverse("domains:account-edit", args=[account.pk]), {**form, "portal_writes_iam": "on"}).status_code
        == 404
    )
    assert client.patch(
        f"/api/accounts/{account.pk}/", {"portal_writes_iam": True}, content_type="application/json"
    ).status_code in (403, 404)
    account.refresh_from_db()
    assert account.portal_writes_iam is False
    login(client, world["admin"])
    page = client.get(reverse("domains:account-edit", args=[account.pk])).content.decode()
    assert "The portal may write IAM" in page
    assert (
        client.post(reverse("domains:account-edit", args=[account.pk]), {**form, "portal_writes_iam": "on"}).status_code
        == 302
    )
    account.refresh_from_db()
    assert account.portal_writes_iam is True
    event = AuditEvent.objects.get(action="account.updated")
    assert event.before["portal_writes_iam"] is False and event.after["portal_writes_iam"] is True
    assert "portal may write IAM" in client.get(reverse("domains:account-list")).content.decode()
    answer = client.patch(f"/api/accounts/{account.pk}/", {"portal_writes_iam": False}, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["portal_writes_iam"] is False
    assert AuditEvent.objects.filter(action="account.updated").count() == 2
