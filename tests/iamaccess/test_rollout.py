"""The isolation rollout on a domain's tag coverage page, its own page and the API: what the isolation policy would
lock out now (asked of the sandbox's IAM policy simulator), and the policy offered only once coverage is complete.
Outsiders get 404; finance and team leads read the coverage but not the rollout."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from awssandbox import faults
from backfill.models import DOMAIN_TAG, LegacyResource
from iamaccess import rollout
from iamaccess.models import ExecutionRole, RoleUse
from portal.aws import call_counter
from tests.factories import DomainFactory, UserFactory, UserProfileFactory, grant

pytestmark = pytest.mark.django_db


def resource(domain: Any, name: str, kind: str = "training-job", *, coverage: str = "attributable", **extra: Any):
    account, region = domain.account.account_id, extra.pop("region", domain.region)
    attributed = coverage in ("tagged", "attributable") or extra.pop("attributed", False)
    tags = {DOMAIN_TAG: domain.arn} if coverage == "tagged" else extra.pop("tags", {})
    return LegacyResource.objects.create(
        arn=f"arn:aws:sagemaker:{region}:{account}:{kind}/{name}",
        resource_type=kind,
        name=name,
        account_id=account,
        region=region,
        domain=domain if attributed else None,
        domain_arn=domain.arn if attributed else "",
        rule="execution-role" if attributed else "",
        coverage=coverage,
        tags=tags,
        why_unattributed="" if attributed else "Unattributed: no rule decides.",
        first_seen=timezone.now(),
        last_seen=timezone.now(),
        **extra,
    )


@pytest.fixture
def world(aws_sandbox: None) -> dict[str, Any]:
    cache.clear()
    domain = DomainFactory(name="research")
    other = DomainFactory(name="elsewhere")
    admin = UserFactory(username="root", is_superuser=True)
    approver, finance, lead, outsider, scientist = (
        UserFactory(username=n) for n in ("appr", "fin", "lead", "out", "sci")
    )
    grant(approver, "domain_approver", domain)
    grant(finance, "finance", domain)
    grant(lead, "team_lead", domain)
    grant(outsider, "domain_approver", other)
    grant(scientist, "data_scientist", domain)
    role = ExecutionRole.objects.create(
        arn=f"arn:aws:iam::{domain.account.account_id}:role/ResearchExecution",
        aws_account_id=domain.account.account_id,
        name="ResearchExecution",
    )
    profile = UserProfileFactory(domain=domain, name="ada")
    RoleUse.objects.create(role=role, domain=domain, kind="profile", profile=profile, source="profile override")
    jobs = [resource(domain, f"job-{n:03d}") for n in range(101)]  # two calls: 100 ARNs a call
    excepted = resource(domain, "old-model", "model", coverage="excepted", attributed=True, excepted_reason="kept")
    stray = resource(domain, "stray-processing", "processing-job", coverage="unattributable")
    resource(domain, "tagged-endpoint", "endpoint", coverage="tagged")
    resource(domain, "far-away", "processing-job", coverage="unattributable", region="eu-west-1")
    resource(other, "theirs", coverage="attributable")
    return {
        "domain": domain,
        "other": other,
        "admin": admin,
        "approver": approver,
        "finance": finance,
        "lead": lead,
        "outsider": outsider,
        "scientist": scientist,
        "role": role,
        "jobs": jobs,
        "excepted": excepted,
        "stray": stray,
    }


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def complete_coverage(world: dict[str, Any]) -> None:
    """What a finished backfill leaves: the domain's jobs tagged, the stray resource excepted with a reason."""
    for job in world["jobs"]:
        job.tags, job.coverage = {DOMAIN_TAG: world["domain"].arn}, "tagged"
    LegacyResource.objects.bulk_update(world["jobs"], ["tags", "coverage"])
    LegacyResource.objects.filter(pk=world["stray"].pk).update(coverage="excepted", excepted_reason="a test rig")


def test_it_asks_iam_what_the_policy_would_deny_per_type_in_batches_of_100(world: dict[str, Any]) -> None:
    found = rollout.simulate_lockout(world["domain"])
    # The domain's untagged and excepted resources, and the unattributed one of its account and region; not the
    # tagged endpoint, not the unattributed one of another region, not another domain's.
    assert found.asked == {"model": 1, "processing-job": 1, "training-job": 101}
    assert {r["name"] for r in found.denied} == {"old-model", "stray-processing"} | {j.name for j in world["jobs"]}
    assert found.calls == 4  # training jobs: 100 + 1 ARNs; one model; one processing job
    by_type = {t["type"]: t for t in found.by_type}
    assert by_type["training-job"] == {
        "type": "training-job",
        "asked": 101,
        "denied": 101,
        "actions": ["sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"],
    }
    assert by_type["model"]["actions"] == ["sagemaker:DeleteModel", "sagemaker:DescribeModel"]


def test_a_resource_tagged_with_the_domain_is_not_locked_out_and_iam_decides_it(world: dict[str, Any]) -> None:
    """Asked about directly, IAM allows a resource whose tag (given as context) is the domain's: the lock-out is
    the simulator's answer, not the portal's assumption that untagged means denied."""
    domain = world["domain"]
    job = world["jobs"][0]
    LegacyResource.objects.filter(pk=job.pk).update(coverage="excepted", tags={DOMAIN_TAG: domain.arn})
    found = rollout.simulate_lockout(domain)
    assert found.asked["training-job"] == 101
    assert job.arn not in {r["arn"] for r in found.denied}
    assert found.calls == 4  # 100 untagged jobs, the tagged one apart (its context differs), a model, a job


def test_the_answer_is_kept_until_the_resources_change(world: dict[str, Any]) -> None:
    first = rollout.simulate_lockout(world["domain"])
    before = call_counter.snapshot().get(("iam", "SimulateCustomPolicy"), 0)
    again = rollout.simulate_lockout(world["domain"])
    assert again.denied == first.denied
    assert call_counter.snapshot().get(("iam", "SimulateCustomPolicy"), 0) == before
    complete_coverage(world)
    after = rollout.simulate_lockout(world["domain"])
    assert call_counter.snapshot().get(("iam", "SimulateCustomPolicy"), 0) == before + 2
    assert {r["name"] for r in after.denied} == {"old-model", "stray-processing"}


def test_the_coverage_page_shows_the_lockout_and_offers_the_policy_only_once_complete(world: dict[str, Any]) -> None:
    domain, role = world["domain"], world["role"]
    page = reverse("backfill:domain-coverage", args=[domain.pk])
    policy_link = reverse("iamaccess:role-policy", args=[role.pk]) + f"?kind=isolation&amp;domain={domain.domain_id}"
    html = client_for(world["approver"]).get(page).content.decode()
    assert 'id="isolation-rollout"' in html
    assert "<strong>103</strong> of the 103 resource(s) without the domain's tag would be" in html
    assert "not yet" in html and "102 resource(s) left" in html
    assert policy_link not in html

    complete_coverage(world)
    html = client_for(world["approver"]).get(page).content.decode()
    assert 'id="coverage-state">complete' in html
    assert "<strong>2</strong> of the 2 resource(s)" in html  # the excepted ones stay locked out, and it says so
    assert policy_link in html
    generated = client_for(world["approver"]).get(policy_link.replace("&amp;", "&"))
    assert generated.status_code == 200 and "NoTouchingAnotherDomain" in generated.content.decode()


def test_the_rollout_page_lists_the_resources_by_type_with_csv_and_the_policy(world: dict[str, Any]) -> None:
    url = reverse("iamaccess:isolation-rollout", args=[world["domain"].pk])
    client = client_for(world["approver"])
    html = client.get(url).content.decode()
    assert 'id="lockout-resources"' in html and "job-000" in html and "job-050" not in html  # 50 a page
    assert 'id="isolation-document"' not in html  # not offered yet
    narrowed = client.get(url, {"type": "model"}).content.decode()
    assert "old-model" in narrowed and "job-000" not in narrowed
    answer = client.get(url, {"type": "processing-job", "format": "csv"})
    csv = b"".join(answer.streaming_content).decode().splitlines()
    assert csv[0] == "type,name,arn,coverage,actions denied"
    assert csv[1].startswith("processing-job,stray-processing,") and len(csv) == 2
    complete_coverage(world)
    html = client.get(url).content.decode()
    assert 'id="isolation-document"' in html and world["domain"].arn in html
    assert reverse("iamaccess:role-policy", args=[world["role"].pk]) in html


def test_an_empty_domain_locks_nothing_out_and_is_ready(world: dict[str, Any]) -> None:
    empty = DomainFactory(name="fresh")
    html = client_for(world["admin"]).get(reverse("iamaccess:isolation-rollout", args=[empty.pk])).content.decode()
    assert "would lock nothing out" in html and 'id="rollout-state">ready' in html
    assert "No execution role of this domain has been read yet" in html


def test_a_simulator_failure_is_said_and_nothing_is_cached(world: dict[str, Any], fast_aws_backoff: None) -> None:
    faults.registry.add(service="iam", kind="server_error", operation="SimulateCustomPolicy", count=50)
    html = client_for(world["approver"]).get(reverse("backfill:domain-coverage", args=[world["domain"].pk]))
    assert "IAM&#x27;s policy simulator did not answer" in html.content.decode()
    api = client_for(world["approver"]).get(f"/api/isolation-rollouts/{world['domain'].pk}/").json()
    assert api["lockout_error"].startswith("IAM's policy simulator did not answer") and api["denied"] is None
    faults.registry.clear()
    assert len(rollout.simulate_lockout(world["domain"]).denied) == 103


def test_who_sees_the_rollout(world: dict[str, Any]) -> None:
    domain = world["domain"]
    coverage_page = reverse("backfill:domain-coverage", args=[domain.pk])
    for name in ("finance", "lead"):  # they read coverage, not the roles' policies
        response = client_for(world[name]).get(coverage_page)
        assert response.status_code == 200 and 'id="isolation-rollout"' not in response.content.decode()
        assert client_for(world[name]).get(reverse("iamaccess:isolation-rollout", args=[domain.pk])).status_code == 404
    for name in ("outsider", "scientist"):
        assert client_for(world[name]).get(coverage_page).status_code == 404
    for url in (
        reverse("iamaccess:isolation-rollout", args=[domain.pk]),
        f"/api/isolation-rollouts/{domain.pk}/",
        f"/api/isolation-rollouts/{domain.pk}/locked-out/",
    ):
        assert client_for(world["outsider"]).get(url).status_code == 404, url
        assert client_for(world["approver"]).get(url).status_code == 200, url


def test_the_api_answers_the_lockout_and_then_the_policy(world: dict[str, Any]) -> None:
    domain, client = world["domain"], client_for(world["approver"])
    body = client.get(f"/api/isolation-rollouts/{domain.pk}/").json()
    assert (body["ready"], body["asked"], body["denied"], body["policy"]) == (False, 103, 103, None)
    assert body["coverage"]["left"] == 102 and body["coverage"]["unattributed_nearby"] == 1
    assert {t["type"]: t["denied"] for t in body["by_type"]} == {"model": 1, "processing-job": 1, "training-job": 101}
    listed = client.get(f"/api/isolation-rollouts/{domain.pk}/locked-out/", {"type": "training-job"}).json()
    assert listed["count"] == 101 and len(listed["results"]) == 50
    assert listed["results"][0]["actions"] == ["sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"]
    complete_coverage(world)
    body = client.get(f"/api/isolation-rollouts/{domain.pk}/").json()
    assert body["ready"] is True and body["denied"] == 2
    assert body["policy"]["Statement"][0]["Sid"] == "CreateTaggedForTheDomain"
    (role,) = body["roles"]
    assert role["name"] == "ResearchExecution"
    generated = client.get(role["policy_url"]).json()
    assert generated["kind"] == "isolation" and generated["document"] == body["policy"]


def test_the_rollout_page_pins_its_queries(world: dict[str, Any], django_assert_num_queries: Any) -> None:
    client = client_for(world["approver"])
    url = reverse("iamaccess:isolation-rollout", args=[world["domain"].pk])
    client.get(url)  # the simulator's answer is then kept
    with django_assert_num_queries(8):
        assert client.get(url).status_code == 200
    with django_assert_num_queries(8):
        assert client.get(url, {"page": 2}).status_code == 200


def test_the_coverage_page_pins_its_queries(world: dict[str, Any], django_assert_num_queries: Any) -> None:
    client = client_for(world["approver"])
    url = reverse("backfill:domain-coverage", args=[world["domain"].pk])
    client.get(url)
    with django_assert_num_queries(10):
        assert client.get(url).status_code == 200
