"""Tag backfill pages and API: who sees what (outsiders get 404), coverage table and chart, the filtered list with
CSV and pinned query counts, the rules page's preview before saving, and an admin's exception."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backfill import discovery, wizard
from backfill.models import AttributionRule, BackfillPlan, LegacyResource
from portal.models import AuditEvent
from tests.factories import DomainFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


def resource(domain: Any, name: str, *, coverage: str = "attributable", rule: str = "execution-role", **extra: Any):
    arn = f"arn:aws:sagemaker:{domain.region}:{domain.account.account_id}:training-job/{name}"
    attributed = coverage in ("tagged", "attributable")
    values = {
        "arn": arn,
        "resource_type": "training-job",
        "name": name,
        "account_id": domain.account.account_id,
        "region": domain.region,
        "domain": domain if attributed else None,
        "domain_arn": domain.arn if attributed else "",
        "rule": rule if attributed else "",
        "coverage": coverage,
        "why_unattributed": "" if attributed else "Unattributed: no CreatedBy; no execution role; no admin rule.",
        "first_seen": timezone.now(),
        "last_seen": timezone.now(),
        **extra,
    }
    return LegacyResource.objects.create(**values)


@pytest.fixture
def world() -> dict[str, Any]:
    domain = DomainFactory(name="research")
    other = DomainFactory(name="elsewhere", account=domain.account)
    admin = UserFactory(username="root", is_superuser=True)
    approver, scientist, outsider, finance = (UserFactory(username=n) for n in ("appr", "sci", "out", "fin"))
    grant(approver, "domain_approver", domain)
    grant(scientist, "data_scientist", domain)
    grant(outsider, "domain_approver", other)
    grant(finance, "finance", domain)
    mine = resource(domain, "risk-train-1")
    resource(domain, "tagged-1", coverage="tagged", rule="domain-tag", tags={"sagemaker:domain-arn": domain.arn})
    theirs = resource(other, "other-train-1")
    stray = resource(domain, "xgboost-2021-01-01", coverage="unattributable")
    return {
        "domain": domain,
        "other": other,
        "admin": admin,
        "approver": approver,
        "scientist": scientist,
        "outsider": outsider,
        "finance": finance,
        "mine": mine,
        "theirs": theirs,
        "stray": stray,
    }


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_coverage_shows_each_person_their_domains(world: dict[str, Any]) -> None:
    admin = client_for(world["admin"]).get(reverse("backfill:coverage")).content.decode()
    assert "research" in admin and "elsewhere" in admin and "No domain" in admin
    assert 'id="coverage-series"' in admin and 'id="discover-now"' in admin
    approver = client_for(world["approver"]).get(reverse("backfill:coverage")).content.decode()
    assert "research" in approver and "elsewhere" not in approver and "No domain" not in approver
    assert 'id="discover-now"' not in approver
    scientist = client_for(world["scientist"]).get(reverse("backfill:coverage")).content.decode()
    assert "No coverage to show you" in scientist
    api = client_for(world["approver"]).get("/api/backfill/coverage/").json()
    assert [r["name"] for r in api["results"]] == ["research"]
    assert api["results"][0]["tagged"] == 1 and api["results"][0]["attributable"] == 1
    assert api["totals"]["percent"] == 50
    assert client_for(world["scientist"]).get("/api/backfill/coverage/").json()["results"] == []


def test_an_outsider_gets_404_on_a_resource(world: dict[str, Any]) -> None:
    url = reverse("backfill:resource-detail", args=[world["mine"].pk])
    assert client_for(world["outsider"]).get(url).status_code == 404
    assert client_for(world["scientist"]).get(url).status_code == 404
    assert client_for(world["outsider"]).get(f"/api/backfill/resources/{world['mine'].pk}/").status_code == 404
    body = client_for(world["approver"]).get(url).content.decode()
    assert "risk-train-1" in body and "Execution role of one domain" in body and 'id="except"' not in body
    # Unattributed resources belong to no domain: only the platform admins see them.
    stray = reverse("backfill:resource-detail", args=[world["stray"].pk])
    assert client_for(world["approver"]).get(stray).status_code == 404
    assert "no admin rule" in client_for(world["admin"]).get(stray).content.decode()


def test_the_list_filters_searches_and_exports(world: dict[str, Any]) -> None:
    client = client_for(world["admin"])
    body = client.get(reverse("backfill:resource-list"), {"coverage": "unattributable"}).content.decode()
    assert "xgboost-2021-01-01" in body and "risk-train-1" not in body
    body = client.get(reverse("backfill:resource-list"), {"q": "risk-train"}).content.decode()
    assert "risk-train-1" in body and "other-train-1" not in body
    api = client.get("/api/backfill/resources/", {"domain": world["other"].domain_id}).json()
    assert [r["name"] for r in api["results"]] == ["other-train-1"]
    csv = b"".join(
        client.get(reverse("backfill:resource-list"), {"format": "csv", "coverage": "unattributable"}).streaming_content
    ).decode()
    assert "xgboost-2021-01-01" in csv and "no execution role" in csv and "risk-train-1" not in csv
    approver = client_for(world["approver"]).get("/api/backfill/resources/").json()
    assert {r["name"] for r in approver["results"]} == {"risk-train-1", "tagged-1"}


def test_the_list_query_count_does_not_grow(world: dict[str, Any], django_assert_num_queries: Any) -> None:
    client = client_for(world["approver"])
    client.get(reverse("backfill:resource-list"))  # warm the session
    for n in range(2):
        with django_assert_num_queries(6):
            assert client.get(reverse("backfill:resource-list")).status_code == 200
        with django_assert_num_queries(4):
            assert client.get(reverse("backfill:coverage")).status_code == 200
        with django_assert_num_queries(6):
            assert client.get("/api/backfill/resources/").status_code == 200
        for i in range(15):
            resource(world["domain"], f"more-{n}-{i}")


def test_a_rule_is_previewed_before_it_is_saved(world: dict[str, Any]) -> None:
    client = client_for(world["admin"])
    form = {"kind": "name-prefix", "prefix": "xgboost-", "domain": world["domain"].pk, "note": "old jobs"}
    body = client.post(reverse("backfill:rules"), {**form, "confirm": "preview"}).content.decode()
    assert 'id="rule-preview"' in body and "xgboost-2021-01-01" in body and 'id="save-rule"' in body
    assert not AttributionRule.objects.exists()
    world["stray"].refresh_from_db()
    assert world["stray"].coverage == "unattributable"
    changed = client.post(reverse("backfill:rules"), {**form, "prefix": "xg", "confirm": "save", "previewed": ""})
    assert "changed since its preview" in changed.content.decode() and not AttributionRule.objects.exists()
    previewed = f"name-prefix|xgboost-|{world['domain'].pk}"
    response = client.post(reverse("backfill:rules"), {**form, "confirm": "save", "previewed": previewed})
    assert response.status_code == 302
    world["stray"].refresh_from_db()
    assert world["stray"].domain_arn == world["domain"].arn and world["stray"].rule == "name-prefix"
    assert world["stray"].coverage == "attributable"
    assert AuditEvent.objects.filter(action="backfill_rule.created").exists()
    # The same rule twice is refused with a reason.
    body = client.post(reverse("backfill:rules"), {**form, "confirm": "preview"}).content.decode()
    assert "This rule exists already." in body
    bad = client.post(reverse("backfill:rules"), {**form, "kind": "s3-prefix", "confirm": "preview"})
    assert "An S3 prefix starts with s3://" in bad.content.decode()
    assert client_for(world["approver"]).post(reverse("backfill:rules"), form).status_code == 404


def test_the_rules_api_previews_saves_and_deletes(world: dict[str, Any]) -> None:
    client = client_for(world["admin"])
    body = {"kind": "name-prefix", "prefix": "xgboost-", "domain_id": world["domain"].domain_id}
    preview = client.post("/api/backfill/rules/", {**body, "preview": True}, content_type="application/json")
    assert preview.status_code == 200 and preview.json()["gained"] == 1 and not AttributionRule.objects.exists()
    created = client.post("/api/backfill/rules/", body, content_type="application/json")
    assert created.status_code == 201 and created.json()["resources"] == 1
    assert client.get("/api/backfill/rules/").json()["count"] == 1
    assert client_for(world["approver"]).get("/api/backfill/rules/").json()["count"] == 0
    forbidden = client_for(world["approver"]).post("/api/backfill/rules/", body, content_type="application/json")
    assert forbidden.status_code == 403
    assert client.delete(f"/api/backfill/rules/{created.json()['id']}/").status_code == 204
    world["stray"].refresh_from_db()
    assert world["stray"].coverage == "unattributable"


def test_an_admin_excepts_a_resource_with_a_reason(world: dict[str, Any]) -> None:
    url = reverse("backfill:resource-detail", args=[world["stray"].pk])
    client = client_for(world["admin"])
    assert "Say why" in client.post(url, {"reason": ""}).content.decode()
    assert client.post(url, {"reason": "Scratch job, deleted at month end"}).status_code == 302
    world["stray"].refresh_from_db()
    assert world["stray"].coverage == "excepted" and world["stray"].excepted_by == world["admin"]
    assert AuditEvent.objects.filter(action="legacy_resource.excepted").exists()
    api = f"/api/backfill/resources/{world['stray'].pk}/except/"
    assert client.delete(api).json()["coverage"] == "unattributable"
    mine = f"/api/backfill/resources/{world['mine'].pk}/except/"
    assert client_for(world["approver"]).post(mine, {"reason": "not mine"}).status_code == 403
    answer = client.post(mine, {"reason": "Kept for audit"}, content_type="application/json").json()
    assert answer["coverage"] == "excepted" and answer["excepted_by"] == "root"


def test_discovery_is_started_by_admins_only(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    monkeypatch.setattr(discovery, "run_discovery", lambda run_id, inline=False: started.append(run_id))
    assert client_for(world["approver"]).post("/api/backfill/discover/").status_code == 403
    assert client_for(world["approver"]).post(reverse("backfill:discover")).status_code == 404
    answer = client_for(world["admin"]).post("/api/backfill/discover/")
    assert answer.status_code == 201 and answer.json()["status"] == "queued"
    again = client_for(world["admin"]).post("/api/backfill/discover/")
    assert again.status_code == 200 and again.json()["id"] == answer.json()["id"]


def test_the_rules_page_query_count_does_not_grow(world: dict[str, Any], django_assert_num_queries: Any) -> None:
    client = client_for(world["admin"])
    client.get(reverse("backfill:rules"))  # warm the session
    for n in range(2):
        with django_assert_num_queries(5):
            assert client.get(reverse("backfill:rules")).status_code == 200
        for i in range(5):
            AttributionRule.objects.create(kind="name-prefix", prefix=f"p{n}-{i}-", domain=world["domain"])


def test_plans_pages_dry_run_approve_and_csv(world: dict[str, Any]) -> None:
    admin, approver = client_for(world["admin"]), client_for(world["approver"])
    assert approver.post(reverse("backfill:plan-list"), {}).status_code == 404
    response = admin.post(reverse("backfill:plan-list"), {"domain": world["domain"].pk})
    plan = BackfillPlan.objects.get()
    assert response.status_code == 302 and plan.total == 1 and plan.domain_arns == [world["domain"].arn]
    detail = reverse("backfill:plan-detail", args=[plan.pk])
    body = admin.get(detail).content.decode()
    assert "risk-train-1" in body and 'id="approve"' not in body  # not by its author
    assert client_for(world["outsider"]).get(detail).status_code == 404
    assert client_for(world["finance"]).get(detail).status_code == 404
    assert 'id="approve"' in approver.get(detail).content.decode()
    csv = b"".join(approver.get(detail, {"format": "csv"}).streaming_content).decode()
    assert "risk-train-1" in csv and "other-train-1" not in csv
    assert approver.post(reverse("backfill:plan-action", args=[plan.pk, "apply"])).status_code == 302
    plan.refresh_from_db()
    assert plan.status == "planned"  # an approver does not apply
    approver.post(reverse("backfill:plan-action", args=[plan.pk, "approve"]))
    plan.refresh_from_db()
    assert plan.status == "approved"
    # Nothing left to plan in a domain whose resources are all tagged: said, not an empty plan.
    body = admin.post(reverse("backfill:plan-list"), {"domain": world["other"].pk}).content.decode()
    assert "other-train-1" not in body and BackfillPlan.objects.count() == 2
    world["theirs"].coverage = "tagged"
    world["theirs"].save()
    body = admin.post(reverse("backfill:plan-list"), {"domain": world["other"].pk}).content.decode()
    assert "Nothing to tag in elsewhere" in body


def test_plans_api(world: dict[str, Any]) -> None:
    admin, approver = client_for(world["admin"]), client_for(world["approver"])
    made = admin.post("/api/backfill/plans/", {"domain_id": world["domain"].domain_id}, content_type="application/json")
    assert made.status_code == 201 and made.json()["total"] == 1
    pk = made.json()["id"]
    assert approver.post("/api/backfill/plans/", {}, content_type="application/json").status_code == 403
    assert admin.post(f"/api/backfill/plans/{pk}/approve/").status_code == 400
    assert approver.post(f"/api/backfill/plans/{pk}/apply/").status_code == 403
    answer = approver.post(f"/api/backfill/plans/{pk}/approve/").json()
    assert answer["status"] == "approved" and answer["approvals"][0]["approver"] == "appr"
    assert approver.get(f"/api/backfill/plans/{pk}/items/").json()["results"][0]["name"] == "risk-train-1"
    assert client_for(world["outsider"]).get(f"/api/backfill/plans/{pk}/").status_code == 404
    assert admin.post(f"/api/backfill/plans/{pk}/cancel/").json()["status"] == "cancelled"


def test_the_plan_list_query_count_does_not_grow(world: dict[str, Any], django_assert_num_queries: Any) -> None:
    client = client_for(world["approver"])
    client.get(reverse("backfill:plan-list"))  # warm the session
    wizard.do_plan(world["admin"], domain=world["domain"])
    for _round in range(2):
        with django_assert_num_queries(5):
            assert client.get(reverse("backfill:plan-list")).status_code == 200
        for _ in range(3):
            wizard.do_plan(world["admin"], domain=world["domain"])


def test_the_inbox_lists_plans_waiting_for_this_approver(world: dict[str, Any]) -> None:
    def inbox(user: Any) -> str:
        return client_for(user).get(reverse("onboarding:inbox")).content.decode()

    plan = wizard.do_plan(world["admin"], domain=world["domain"])
    assert 'id="inbox-backfill-plans"' in inbox(world["approver"]) and f"#{plan.pk}" in inbox(world["approver"])
    assert 'id="inbox-backfill-plans"' not in inbox(world["outsider"])
    wizard.do_approve(world["approver"], plan)
    assert 'id="inbox-backfill-plans"' not in inbox(world["approver"])


def test_a_domains_coverage_page_says_whether_it_is_complete(world: dict[str, Any]) -> None:
    """Linked from the coverage table; complete once the domain's resources are tagged or excepted and no
    unattributed resource of its account and region is left undecided."""
    domain, finance = world["domain"], client_for(world["finance"])
    url = reverse("backfill:domain-coverage", args=[domain.pk])
    assert url in finance.get(reverse("backfill:coverage")).content.decode()
    page = finance.get(url).content.decode()
    assert 'id="coverage-state">2 left' in page  # risk-train-1 untagged, the stray one undecided
    assert 'id="domain-attributable">1<' in page and 'id="domain-unattributed">1<' in page
    assert 'id="isolation-rollout"' not in page  # the rollout is for those who manage the domain's roles
    LegacyResource.objects.filter(pk=world["mine"].pk).update(coverage="tagged", tags={"sagemaker:domain-arn": "x"})
    LegacyResource.objects.filter(pk=world["stray"].pk).update(coverage="excepted", excepted_reason="a test rig")
    assert 'id="coverage-state">complete' in finance.get(url).content.decode()


def test_a_domains_coverage_page_is_404_to_outsiders_and_scientists(world: dict[str, Any]) -> None:
    url = reverse("backfill:domain-coverage", args=[world["domain"].pk])
    for who in ("outsider", "scientist"):
        assert client_for(world[who]).get(url).status_code == 404
    assert client_for(world["finance"]).get(reverse("backfill:domain-coverage", args=[999999])).status_code == 404
