"""The IAM review over the demo organisation: which role acts for what, the policies read with
GetAccountAuthorizationDetails, the probes simulated in batches, and the cache that makes a second review free."""

from __future__ import annotations

import json

import pytest

from awssandbox import iam as sandbox_iam
from domains.models import Domain
from iamaccess import review
from iamaccess.models import ExecutionRole, ProbeEvaluation, RoleUse
from portal.models import TaskRun
from profiles.models import UserProfile
from tests.iamaccess.world import role_arn

pytestmark = pytest.mark.django_db


def simulations(run: TaskRun) -> int:
    return run.aws_calls.get("iam:SimulatePrincipalPolicy", 0)


def test_a_review_reads_every_role_with_its_inline_attached_and_boundary_policies(reviewed: TaskRun) -> None:
    roles = {r.name: r for r in ExecutionRole.objects.all()}
    assert set(roles) == {
        "RiskAnalyticsExecution",
        "PaymentsFraudExecution",
        "ResearchLabExecution",
        "ForecastingExecution",
        "AmazonSageMaker-ExecutionRole-20240115",
    }
    risk = roles["RiskAnalyticsExecution"]
    assert [p["name"] for p in risk.attached] == ["RiskAnalyticsDomainIsolation"]
    assert not risk.attached[0]["aws_managed"] and risk.attached[0]["document"]["Statement"]
    fraud = roles["PaymentsFraudExecution"]
    assert [p["name"] for p in fraud.inline] == ["ApprovedInstanceTypes"]
    assert fraud.attached[0]["arn"] == "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
    assert fraud.attached[0]["aws_managed"] and fraud.attached[0]["version"]
    legacy = roles["ForecastingExecution"]
    assert legacy.boundary["name"] == "StudioNotebooksBoundary"
    assert all(r.policy_hash and r.read_at and not r.read_error and r.evaluation for r in roles.values())
    # One GetAccountAuthorizationDetails page per account, not five calls a role.
    assert reviewed.aws_calls["iam:GetAccountAuthorizationDetails"] == 2


def test_each_role_serves_the_profiles_and_spaces_the_effective_settings_give_it(reviewed: TaskRun) -> None:
    research = Domain.objects.get(name="research-lab")
    role = ExecutionRole.objects.get(arn=role_arn("research"))
    profiles = set(RoleUse.objects.filter(role=role, kind=RoleUse.Kind.PROFILE).values_list("profile__name", flat=True))
    assert profiles == set(UserProfile.objects.filter(domain=research).values_list("name", flat=True))
    assert role.profile_count == len(profiles)
    kinds = set(RoleUse.objects.filter(role=role).values_list("kind", flat=True))
    assert {RoleUse.Kind.DOMAIN_DEFAULT, RoleUse.Kind.PRIVATE_SPACE} <= kinds
    private = RoleUse.objects.filter(role=role, kind=RoleUse.Kind.PRIVATE_SPACE).first()
    assert private.source.startswith("owner's")


def test_a_profile_with_its_own_role_is_served_by_that_role(reviewed: TaskRun) -> None:
    profile = UserProfile.objects.filter(domain__name="quickstart-sandbox").order_by("name").first()
    other = role_arn("research")
    profile.settings_snapshot = {**profile.settings_snapshot, "ExecutionRole": other}
    profile.save()
    review.start_review(trigger=TaskRun.Trigger.COMMAND, inline=True)
    use = RoleUse.objects.get(profile=profile)
    assert use.role.arn == other and use.source == "profile override"


def test_a_second_review_of_unchanged_roles_simulates_nothing(reviewed: TaskRun) -> None:
    assert simulations(reviewed) > 0
    evaluations = ProbeEvaluation.objects.count()
    again, created = review.start_review(trigger=TaskRun.Trigger.COMMAND, inline=True)
    assert created and again.status == TaskRun.Status.SUCCEEDED
    assert simulations(again) == 0
    assert "iam:GetPolicyVersion" not in again.aws_calls  # the AWS managed policy's version did not move
    assert ProbeEvaluation.objects.count() == evaluations
    assert again.counts["simulations"] == {"created": 0, "unchanged": 5}


def test_a_changed_policy_is_simulated_again_and_only_that_role(reviewed: TaskRun) -> None:
    fraud = ExecutionRole.objects.get(arn=role_arn("fraud"))
    old_hash = fraud.policy_hash
    account = fraud.aws_account_id
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "NoEndpoints", "Effect": "Deny", "Action": "sagemaker:CreateEndpoint", "Resource": "*"}],
    }
    sandbox_iam.backend(account).put_role_policy(fraud.name, "NoEndpoints", json.dumps(deny))
    again, _ = review.start_review(trigger=TaskRun.Trigger.COMMAND, inline=True)
    fraud.refresh_from_db()
    assert fraud.policy_hash != old_hash and fraud.policies_changed_at is not None
    assert again.counts["simulations"] == {"created": 1, "unchanged": 4}
    assert 0 < simulations(again) == fraud.evaluation.simulate_calls
    endpoint = next(r for r in fraud.evaluation.results if r["action"] == "sagemaker:CreateEndpoint")
    assert endpoint["outcome"] == "explicitDeny"
    assert endpoint["matched"][0]["policy"] == "NoEndpoints" and endpoint["matched"][0]["statement"] == "NoEndpoints"


def test_calls_grow_with_roles_not_with_profiles(reviewed: TaskRun) -> None:
    from profiles.models import UserProfile as Profile

    domain = Domain.objects.get(name="research-lab")
    template = Profile.objects.filter(domain=domain).first()
    Profile.objects.bulk_create(
        [
            Profile(domain=domain, name=f"extra-{n}", arn=f"{template.arn}-extra-{n}", status="InService")
            for n in range(40)
        ]
    )
    again, _ = review.start_review(trigger=TaskRun.Trigger.COMMAND, inline=True)
    assert simulations(again) == 0
    assert ExecutionRole.objects.get(arn=role_arn("research")).profile_count == template.domain.user_profiles.count()


def test_a_role_iam_does_not_have_is_reported_not_guessed(demo: None) -> None:
    backend = sandbox_iam.backend(role_arn("quick").split(":")[4])
    name = "AmazonSageMaker-ExecutionRole-20240115"
    backend.detach_role_policy("arn:aws:iam::aws:policy/AmazonSageMakerFullAccess", name)
    backend.delete_role(name)
    run, _ = review.start_review(trigger=TaskRun.Trigger.COMMAND, inline=True)
    role = ExecutionRole.objects.get(arn=role_arn("quick"))
    assert "has no role" in role.read_error and role.evaluation is None
    assert run.status == TaskRun.Status.SUCCEEDED


def test_a_domain_review_reads_only_that_domains_roles(demo: None) -> None:
    domain = Domain.objects.get(name="risk-analytics")
    run, _ = review.start_review(trigger=TaskRun.Trigger.COMMAND, domain=domain, inline=True)
    assert run.scope == {"domain_arn": domain.arn} and run.domain_arns == [domain.arn]
    assert list(ExecutionRole.objects.values_list("arn", flat=True)) == [role_arn("risk")]


def test_the_scheduled_task_runs_a_review(demo: None) -> None:
    from iamaccess import tasks

    run_id = tasks.scheduled_review()
    assert TaskRun.objects.get(pk=run_id).status == TaskRun.Status.SUCCEEDED


def test_the_beat_schedule_names_the_review_task() -> None:
    from django.conf import settings

    from portal.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["iam-review"]
    assert entry["task"] in app.tasks
