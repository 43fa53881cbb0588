"""Applying a generated policy through a change set, in the sandbox: only where the account lets the portal write
IAM, approved by another approver, put on the role by the change-set worker, the role read and simulated again so
the findings it closes resolve, and one click proposing the revert to the document it replaced."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from changesets import apply, services, tasks
from changesets.models import Change, ChangeSet
from changesets.planning import PlannedChange
from domains.models import AwsAccount, Domain
from governance.models import Finding, FindingEvent
from iamaccess import proposals, reader
from iamaccess.models import ExecutionRole
from portal.models import AuditEvent, RoleAssignment
from tests.factories import UserFactory, grant
from tests.iamaccess.world import role_arn

pytestmark = pytest.mark.django_db

RESEARCH_ACCOUNT = "271828182845"


def user(name: str) -> Any:
    return get_user_model().objects.get(username=name)


def client_for(person: Any) -> Client:
    client = Client()
    client.force_login(person)
    return client


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(tasks.apply_change_set, "apply_async", lambda args, **options: calls.append((args, options)))
    return calls


def research() -> tuple[ExecutionRole, Domain]:
    return ExecutionRole.objects.get(arn=role_arn("research")), Domain.objects.get(name="research-lab")


def canvas_findings(domain: Domain) -> list[Finding]:
    return [
        f
        for f in Finding.objects.filter(check_id="SE-06", domain=domain, status=Finding.Status.OPEN)
        if "Canvas" in f.details
    ]


def iam_policy(role: ExecutionRole, name: str) -> Any:
    client = reader.iam_client(role.account.access)
    try:
        return reader.document(client.get_role_policy(RoleName=role.name, PolicyName=name)["PolicyDocument"])
    except client.exceptions.NoSuchEntityException:
        return None


def approve_and_apply(cs: ChangeSet, approver: Any, capture: Any, enqueued: list[Any]) -> ChangeSet:
    with capture(execute=True):
        services.do_approve(cs, actor=approver)
    (pk, token), _ = enqueued.pop()
    with capture(execute=True):
        assert apply.apply_turn(pk, token) is None
    cs.refresh_from_db()
    return cs


def test_the_demo_lets_the_portal_write_iam_in_the_research_account_only(reviewed: Any) -> None:
    assert AwsAccount.objects.get(account_id=RESEARCH_ACCOUNT).portal_writes_iam
    assert not AwsAccount.objects.get(is_payer=True).portal_writes_iam


def test_the_deny_of_what_the_ui_hides_closes_canvas_in_simulation_and_for_real_then_reverts(
    reviewed: Any, django_capture_on_commit_callbacks: Any, enqueued: list[Any]
) -> None:
    role, domain = research()
    leaking = canvas_findings(domain)
    assert {f.resource_name for f in leaking} == {"maria-garcia", "sara-nilsson"}
    approver = client_for(user("approver"))
    url = reverse("iamaccess:role-policy", args=[role.pk])
    fields = {"kind": "hidden", "domain": domain.domain_id, "instance_types": ""}
    page = approver.post(url, fields)
    assert page.status_code == 200
    proposal = page.context["proposal"]
    assert proposal.validation.ok, proposal.validation.errors
    assert {f.pk for f in leaking} <= {f.pk for f in proposal.simulation["closes"]}
    assert 'id="propose"' in page.content.decode()

    proposed = approver.post(url, {**fields, "step": "propose"})
    cs = ChangeSet.objects.get(origin="iam:hidden")
    assert proposed.status_code == 302 and proposed["Location"] == cs.get_absolute_url()
    change = cs.changes.get()
    name = f"sagemaker-portal-hidden-{domain.domain_id}"
    assert (change.operation, change.resource_arn, change.request["PolicyName"]) == ("PutRolePolicy", role.arn, name)
    assert set(cs.finding_ids) >= {f.pk for f in leaking}
    assert iam_policy(role, name) is None  # nothing written before approval
    with pytest.raises(Exception, match="another approver"):
        services.do_approve(cs, actor=user("approver"))

    cs = approve_and_apply(cs, user("admin"), django_capture_on_commit_callbacks, enqueued)
    assert cs.status == ChangeSet.Status.APPLIED, cs.error
    written = iam_policy(role, name)
    assert written == proposal.document
    change.refresh_from_db()
    assert change.status == Change.Status.APPLIED and change.before == {"PolicyDocument": None}
    role.refresh_from_db()
    assert name in [p["name"] for p in role.inline]  # read from IAM again
    canvas = next(
        r for r in role.evaluation.results if r["subject"] == "app:Canvas" and r["domain_id"] == domain.domain_id
    )
    assert canvas["outcome"] == "explicitDeny" and canvas["matched"][0]["statement"] == "NoHiddenApps"
    assert canvas_findings(domain) == []
    for finding in leaking:
        finding.refresh_from_db()
        assert finding.status == Finding.Status.RESOLVED
        assert FindingEvent.objects.filter(finding=finding, event="fix applied", note__contains="resolved").exists()
    assert AuditEvent.objects.filter(action="changeset.put_role_policy", request_id=cs.ref).exists()

    detail = client_for(user("approver")).get(cs.get_absolute_url()).content.decode()
    assert 'id="revert"' in detail and "NoHiddenApps" in detail
    reverted = client_for(user("approver")).post(reverse("changesets:action", args=[cs.pk, "revert"]))
    revert = ChangeSet.objects.get(origin=f"revert:{cs.ref}")
    assert reverted["Location"] == revert.get_absolute_url() and revert.status == ChangeSet.Status.PROPOSED
    undo = revert.changes.get()
    assert undo.operation == "DeleteRolePolicy" and undo.after == {"PolicyDocument": None}
    with pytest.raises(Exception, match="changes this policy after this one"):
        services.do_propose_revert(cs, actor=user("admin"))  # the revert is pending: one at a time
    revert = approve_and_apply(revert, user("admin"), django_capture_on_commit_callbacks, enqueued)
    assert revert.status == ChangeSet.Status.APPLIED, revert.error
    assert iam_policy(role, name) is None
    role.refresh_from_db()
    assert name not in [p["name"] for p in role.inline]
    assert {f.resource_name for f in canvas_findings(domain)} == {"maria-garcia", "sara-nilsson"}


def test_a_revert_puts_back_the_document_that_was_there_before(
    reviewed: Any, django_capture_on_commit_callbacks: Any, enqueued: list[Any]
) -> None:
    role, domain = research()
    name = f"sagemaker-portal-no-deployment-{domain.domain_id}"
    earlier = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "sagemaker:CreateModel", "Resource": "*"}],
    }
    reader.iam_client(role.account.access).put_role_policy(
        RoleName=role.name, PolicyName=name, PolicyDocument=json.dumps(earlier)
    )
    proposal = proposals.build(role, domain, "no-deployment", ("system",))
    cs = proposals.propose(proposal, user("approver"))
    cs = approve_and_apply(cs, user("admin"), django_capture_on_commit_callbacks, enqueued)
    assert cs.status == ChangeSet.Status.APPLIED and iam_policy(role, name) == proposal.document
    assert cs.changes.get().before == {"PolicyDocument": earlier}
    revert = services.do_propose_revert(cs, actor=user("approver"))
    undo = revert.changes.get()
    assert undo.operation == "PutRolePolicy" and json.loads(undo.request["PolicyDocument"]) == earlier
    revert = approve_and_apply(revert, user("admin"), django_capture_on_commit_callbacks, enqueued)
    assert revert.status == ChangeSet.Status.APPLIED and iam_policy(role, name) == earlier


def test_where_the_account_forbids_iam_writes_the_page_says_why_and_offers_the_downloads(reviewed: Any) -> None:
    role = ExecutionRole.objects.get(arn=role_arn("risk"))
    domain = Domain.objects.get(name="risk-analytics")
    approver = client_for(user("approver"))
    url = reverse("iamaccess:role-policy", args=[role.pk])
    page = approver.get(url, {"kind": "no-deployment", "domain": domain.domain_id})
    text = page.content.decode()
    assert 'id="apply-unavailable"' in text and "does not let the portal write IAM" in text
    assert 'id="download-terraform"' in text and 'id="propose"' not in text
    refused = approver.post(url, {"kind": "no-deployment", "domain": domain.domain_id, "step": "propose"})
    assert refused.status_code == 400 and "does not let the portal write IAM" in refused.content.decode()
    assert not ChangeSet.objects.exists()
    api = approver.post(
        f"/api/execution-roles/{role.pk}/policy/change-set/",
        {"kind": "no-deployment", "domain": domain.domain_id},
        content_type="application/json",
    )
    assert api.status_code == 400 and "does not let the portal write IAM" in str(api.json())
    got = approver.get(f"/api/execution-roles/{role.pk}/policy/", {"kind": "no-deployment", "domain": domain.domain_id})
    assert "does not let the portal write IAM" in got.json()["apply_unavailable"]


def test_the_change_set_service_refuses_iam_changes_it_may_not_make(reviewed: Any) -> None:
    role, domain = research()
    approver = user("approver")

    def put(**overrides: Any) -> PlannedChange:
        document = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
        request = {"RoleName": role.name, "PolicyName": "sagemaker-portal-x", "PolicyDocument": json.dumps(document)}
        fields: dict[str, Any] = {
            "operation": "PutRolePolicy",
            "resource_arn": role.arn,
            "resource_kind": "role",
            "request": request,
            "after": {"PolicyDocument": document},
        }
        fields.update(overrides)
        return PlannedChange(**fields)

    def refused(change: PlannedChange, message: str) -> None:
        with pytest.raises(Exception, match=message):
            services.propose(approver, domain, "t", [change])

    refused(put(request={**put().request, "PolicyName": "AdminAccess"}), "must start with 'sagemaker-portal-'")
    refused(put(request={**put().request, "RoleName": "Other"}), "RoleName must be")
    refused(put(resource_arn="arn:aws:iam::314159265358:role/RiskAnalyticsExecution"), "no live role")
    refused(put(request={**put().request, "PolicyDocument": "{not json"}), "JSON text")
    refused(put(after={"PolicyDocument": {"Statement": []}}), "the document the request puts")
    AwsAccount.objects.filter(account_id=RESEARCH_ACCOUNT).update(portal_writes_iam=False)
    domain.refresh_from_db()
    refused(put(), "does not let the portal write IAM")
    assert not ChangeSet.objects.exists()


def test_the_applier_writes_nothing_once_the_switch_is_turned_off(
    reviewed: Any, django_capture_on_commit_callbacks: Any, enqueued: list[Any]
) -> None:
    role, domain = research()
    cs = proposals.propose(proposals.build(role, domain, "no-deployment", ("system",)), user("approver"))
    AwsAccount.objects.filter(account_id=RESEARCH_ACCOUNT).update(portal_writes_iam=False)
    cs = approve_and_apply(cs, user("admin"), django_capture_on_commit_callbacks, enqueued)
    assert cs.status == ChangeSet.Status.FAILED and "no longer lets the portal write IAM" in cs.error
    assert iam_policy(role, cs.changes.get().request["PolicyName"]) is None


def test_the_api_proposes_approves_and_reverts(
    reviewed: Any, django_capture_on_commit_callbacks: Any, enqueued: list[Any]
) -> None:
    role, domain = research()
    approver, admin = client_for(user("approver")), client_for(user("admin"))
    answer = approver.post(
        f"/api/execution-roles/{role.pk}/policy/change-set/",
        {"kind": "hidden", "domain": domain.domain_id},
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    pk = answer.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.post(f"/api/change-sets/{pk}/approve/").status_code == 200
    (cs_pk, token), _ = enqueued.pop()
    with django_capture_on_commit_callbacks(execute=True):
        apply.apply_turn(cs_pk, token)
    assert admin.get(f"/api/change-sets/{pk}/").json()["status"] == "applied"
    assert canvas_findings(domain) == []
    revert = approver.post(f"/api/change-sets/{pk}/revert/")
    assert revert.status_code == 201 and revert.json()["status"] == "proposed"
    again = approver.post(f"/api/change-sets/{pk}/revert/")
    assert again.status_code == 400


def test_people_who_do_not_approve_for_the_domain_cannot_propose_or_revert(
    reviewed: Any, django_capture_on_commit_callbacks: Any, enqueued: list[Any]
) -> None:
    role, domain = research()
    outsider = UserFactory(username="legacy-approver")
    grant(outsider, RoleAssignment.Role.DOMAIN_APPROVER, Domain.objects.get(name="legacy-forecasting"))
    client = client_for(outsider)
    params = {"kind": "hidden", "domain": domain.domain_id}
    page = client.post(reverse("iamaccess:role-policy", args=[role.pk]), {**params, "step": "propose"})
    assert page.status_code == 404
    answer = client.post(f"/api/execution-roles/{role.pk}/policy/change-set/", params, content_type="application/json")
    assert answer.status_code == 404
    cs = proposals.propose(proposals.build(role, domain, "no-deployment", ("system",)), user("approver"))
    cs = approve_and_apply(cs, user("admin"), django_capture_on_commit_callbacks, enqueued)
    assert client.post(reverse("changesets:action", args=[cs.pk, "revert"])).status_code == 404
    assert client.post(f"/api/change-sets/{cs.pk}/revert/").status_code == 404
    assert not ChangeSet.objects.filter(origin__startswith="revert:").exists()


def test_the_simulation_lists_what_the_roles_profiles_and_spaces_used_in_30_days_that_it_would_newly_deny(
    reviewed: Any,
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from profiles.models import App

    role, domain = research()
    used = proposals.recent_uses(role, domain)
    gpu = sorted((app, kind) for app, kind in used if kind.startswith(("ml.g", "ml.p")))
    assert gpu, used
    fields = {"kind": "instance-types", "domain": domain.domain_id, "instance_types": ["system", "ml.t3.*", "ml.m5.*"]}
    answer = client_for(user("approver")).post(
        f"/api/execution-roles/{role.pk}/policy/", fields, content_type="application/json"
    )
    denied = {(r["app_type"], r["instance_type"]): r for r in answer.json()["simulation"]["newly_denied"]}
    assert set(gpu) <= set(denied)
    assert all(r["used_by"] and r["outcome"] == "explicitDeny" for r in denied.values())
    assert not any(kind.startswith(("ml.t3.", "ml.m5.")) for _, kind in denied)
    page = client_for(user("approver")).post(
        reverse("iamaccess:role-policy", args=[role.pk]), {**fields, "instance_types": "system, ml.t3.*, ml.m5.*"}
    )
    assert 'id="newly-denied"' in page.content.decode() and gpu[0][1] in page.content.decode()
    # An app last seen 40 days ago, deleted since, is outside the window.
    long_ago = timezone.now() - timedelta(days=40)
    App.objects.filter(domain=domain, app_type=gpu[0][0], instance_type=gpu[0][1]).update(
        status="Deleted", removed_at=long_ago, aws_created_at=long_ago, last_user_activity=None, last_changed=long_ago
    )
    assert gpu[0] not in proposals.recent_uses(role, domain)
