"""Change-set pages and API: list (filters, query count), detail with its diff, decisions, the edit forms that
propose change sets, the inbox section, and what outsiders get (404)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from changesets.models import ChangeSet
from tests.changesets.helpers import IDLE, domain_idle_change, idle_change, proposed, tag_change
from tests.onboarding.world import World

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_list_filters_searches_and_pins_its_query_count(world: World) -> None:
    for i in range(8):
        proposed(world, tag_change(world, value=f"v{i}"))
    rejected = proposed(world, idle_change(world))
    from changesets import services

    services.do_reject(rejected, actor=world.approver2, reason="Not now")
    client = client_for(world.approver)
    url = reverse("changesets:list")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    assert page.status_code == 200 and page.content.decode().count("CS-") == 9
    assert len(queries) == 6, "\n".join(q["sql"] for q in queries.captured_queries)
    only = client.get(url, {"status": "rejected"}).content.decode()
    assert rejected.ref in only and only.count("CS-") == 1
    assert client.get(url, {"q": "no such title"}).content.decode().count("CS-") == 0
    assert "No change set matches" in client.get(url, {"q": "no such title"}).content.decode()
    refused = client.get(url, {"domain": world.other.domain_id}).content.decode()
    assert "CS-" not in refused  # a domain outside the approver's scope lists nothing


def test_outsiders_get_404_everywhere(world: World) -> None:
    cs = proposed(world, idle_change(world))
    profile = world.research.user_profiles.get(name="leila")
    client = client_for(world.outsider)
    for name, args in (
        ("changesets:detail", [cs.pk]),
        ("changesets:progress", [cs.pk]),
        ("changesets:edit", ["profile", profile.pk]),
        ("changesets:edit", ["domain", world.research.pk]),
    ):
        assert client.get(reverse(name, args=args)).status_code == 404, name
    for action in ("approve", "reject", "cancel", "retry"):
        assert client.post(reverse("changesets:action", args=[cs.pk, action]), {"reason": "x"}).status_code == 404
    api = api_for(world.outsider)
    assert api.get(reverse("api-change-set-detail", args=[cs.pk])).status_code == 404
    assert api.post(reverse("api-change-set-approve", args=[cs.pk])).status_code == 404
    assert api.get(reverse("api-change-set-list")).json()["count"] == 0
    cs.refresh_from_db()
    assert cs.status == "proposed"


def test_the_detail_page_shows_the_diff_and_who_may_decide(world: World) -> None:
    cs = proposed(world, idle_change(world, 120))
    mine = client_for(world.approver).get(cs.get_absolute_url()).content.decode()
    assert f"UserSettings.{IDLE}.IdleTimeoutInMinutes" in mine and "<ins>120</ins>" in mine
    assert 'id="approve"' not in mine and "Another approver" in mine and 'id="cancel"' in mine
    other = client_for(world.approver2).get(cs.get_absolute_url()).content.decode()
    assert 'id="approve"' in other and 'id="reject"' in other and "data-confirm" in other


def test_an_approver_edits_a_profile_and_another_approves_it(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    profile = world.research.user_profiles.get(name="leila")
    client = client_for(world.approver)
    url = reverse("changesets:edit", args=["profile", profile.pk])
    assert 'id="edit-settings"' in client.get(url).content.decode()
    same = client.post(url, {"hidden_instance_types": ""})
    assert "Nothing would change" in same.content.decode()
    bad = client.post(url, {"hidden_instance_types": "ml.nope.large", "idle_shutdown": "ENABLED"})
    assert "Not a AppInstanceType AWS knows: ml.nope.large" in bad.content.decode()
    response = client.post(url, {"idle_shutdown": "ENABLED", "idle_timeout_minutes": "120"})
    cs = ChangeSet.objects.get()
    assert response.status_code == 302 and response["Location"] == cs.get_absolute_url()
    change = cs.changes.get()
    assert change.operation == "UpdateUserProfile" and cs.origin == "edit:profile"
    assert change.after[f"UserSettings.{IDLE}.IdleTimeoutInMinutes"] == 120
    assert "LifecycleManagement" in str(change.after) and "CodeEditorAppSettings" in str(change.request)

    inbox = client_for(world.approver2).get(reverse("onboarding:inbox")).content.decode()
    assert cs.ref in inbox and 'id="inbox-change-sets"' in inbox
    assert (
        f'href="{cs.get_absolute_url()}"' not in client.get(reverse("onboarding:inbox")).content.decode()
    )  # not the proposer's
    with django_capture_on_commit_callbacks(execute=True):
        answer = client_for(world.approver2).post(reverse("changesets:action", args=[cs.pk, "approve"]))
    assert answer.status_code == 302
    cs.refresh_from_db()
    assert cs.status == "applied", cs.error
    profile.refresh_from_db()
    assert profile.idle_shutdown == "ENABLED" and profile.idle_timeout_minutes == 120
    page = client.get(reverse("profiles:profile-detail", args=[profile.pk])).content.decode()
    assert "after 120 min (profile override)" in page and 'id="edit-settings-link"' in page


def test_domain_defaults_are_edited_the_same_way(world: World) -> None:
    client = client_for(world.admin)
    url = reverse("changesets:edit", args=["domain", world.research.pk])
    response = client.post(url, {"tag_propagation": "ENABLED", "docker_access": "ENABLED", "landing": "studio::"})
    assert response.status_code == 302
    change = ChangeSet.objects.get().changes.get()
    assert change.operation == "UpdateDomain"
    assert change.request["DomainSettingsForUpdate"] == {"DockerSettings": {"EnableDockerAccess": "ENABLED"}}
    assert change.after["TagPropagation"] == "ENABLED"
    assert change.after["DomainSettings.DockerSettings.EnableDockerAccess"] == "ENABLED"


def test_people_who_do_not_approve_in_the_domain_cannot_edit(world: World) -> None:
    profile = world.research.user_profiles.get(name="leila")
    for person in (world.lead, world.finance):
        assert client_for(person).get(reverse("changesets:edit", args=["profile", profile.pk])).status_code == 404


def test_the_api_creates_with_errors_that_name_the_change_and_field(world: World) -> None:
    api = api_for(world.approver)
    url = reverse("api-change-set-list")
    good = idle_change(world)
    body = {
        "domain": world.research.arn,
        "title": "Idle shutdown",
        "origin": "governance:CO-01",
        "finding_ids": [11, 12],
        "changes": [
            {
                "operation": good.operation,
                "resource_arn": good.resource_arn,
                "resource_kind": good.resource_kind,
                "request": good.request,
                "after": good.after,
            },
            {"operation": "UpdateSpace", "resource_arn": "x", "resource_kind": "space", "request": {"SpaceName": 3}},
        ],
    }
    refused = api.post(url, body, format="json")
    assert refused.status_code == 400
    errors = refused.json()
    assert list(errors) == ["changes[1]"]
    assert "no live space x" in str(errors) and "DomainId" in str(errors)
    wrong_kind = {**body, "changes": [{**body["changes"][0], "operation": "Nope"}]}
    assert "changes[0]" in api.post(url, wrong_kind, format="json").json()["changes"]
    assert not ChangeSet.objects.exists()

    created = api.post(url, {**body, "changes": body["changes"][:1]}, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["status"] == "proposed" and data["finding_ids"] == [11, 12] and len(data["changes"]) == 1
    own = api.post(reverse("api-change-set-approve", args=[data["id"]]))
    assert own.status_code == 400 and "their own" in str(own.json())
    listed = api_for(world.approver2).get(url, {"status": "proposed", "account": world.research.account.account_id})
    assert listed.json()["count"] == 1
    rejected = api_for(world.approver2).post(
        reverse("api-change-set-reject", args=[data["id"]]), {"reason": "Not this quarter"}, format="json"
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"


def test_the_api_approves_and_the_change_set_is_applied(world: World, django_capture_on_commit_callbacks: Any) -> None:
    cs = proposed(world, domain_idle_change(world, 100))
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_for(world.admin).post(reverse("api-change-set-approve", args=[cs.pk]))
    assert answer.status_code == 200
    assert api_for(world.approver).get(reverse("api-change-set-detail", args=[cs.pk])).json()["status"] == "applied"


def test_the_status_fragment_stops_polling_once_finished(world: World) -> None:
    cs = proposed(world, idle_change(world))
    response = client_for(world.approver).get(reverse("changesets:progress", args=[cs.pk]))
    assert response.status_code == 286 and "hx-get" not in response.content.decode()
    ChangeSet.objects.filter(pk=cs.pk).update(status="applying")
    working = client_for(world.approver).get(reverse("changesets:progress", args=[cs.pk]))
    assert working.status_code == 200 and "hx-get" in working.content.decode()
