"""SE-05, SE-06, SE-07, SE-08 and TG-01 over the demo organisation, from what the IAM review stored."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance import engine
from governance.models import Finding
from iamaccess.models import ExecutionRole
from portal.aws import call_counter
from portal.registry import registry
from profiles.models import UserProfile
from tests.iamaccess.world import role_arn

pytestmark = pytest.mark.django_db


def open_finding(check_id: str, name: str) -> Finding | None:
    return Finding.objects.filter(check_id=check_id, resource_name=name, status="open").first()


def evidence(finding: Finding) -> dict[str, Any]:
    return {e["field"]: e for e in finding.evidence}


def test_the_iam_checks_are_registered() -> None:
    assert {"SE-05", "SE-06", "SE-07", "SE-08", "TG-01"} <= set(registry.checks)


def test_hidden_but_allowed_names_each_leaking_action_with_its_decision_and_statement(reviewed: Any) -> None:
    finding = open_finding("SE-06", "sofia-rossi")  # risk-analytics hides AutoML, Experiments, Models, Code Editor
    assert finding is not None and finding.severity == "high"  # Models leak
    shown = evidence(finding)
    assert shown["leaking"]["value"] == ["CodeEditor", "Experiments", "Models"]  # AutoML is denied: enforced
    create_model = shown["ML tool Models: sagemaker:CreateModel"]
    assert create_model["value"] == (
        "allowed by RiskAnalyticsDomainIsolation / CreateInTheDomainOnly (when aws:RequestTag/sagemaker:domain-arn)"
    )
    assert create_model["source"] == "SimulatePrincipalPolicy as RiskAnalyticsExecution"
    assert not any(k.startswith("ML tool AutoMl") for k in shown)
    fraud = open_finding("SE-06", "ines-moreau")  # full access: AutoML leaks too
    assert "AutoMl" in evidence(fraud)["leaking"]["value"]
    assert "AllowAllNonAdminSageMakerActions" in str(fraud.evidence)
    # Profiles that hide nothing have no such finding.
    assert open_finding("SE-06", "arjun-mehta") is None


def test_a_hidden_instance_type_is_flagged_where_allowed_and_not_where_denied(reviewed: Any) -> None:
    risk = open_finding("SE-07", "sofia-rossi")
    assert risk is not None and "ml.p3.2xlarge" in risk.details
    assert open_finding("SE-07", "ines-moreau") is None  # payments-fraud's instance-type deny enforces it


def test_full_access_roles_are_flagged_and_the_tight_one_is_not(reviewed: Any) -> None:
    for domain in ("payments-fraud", "research-lab", "legacy-forecasting", "quickstart-sandbox"):
        finding = open_finding("SE-05", domain)
        assert finding is not None and "AmazonSageMakerFullAccess attached" in str(finding.evidence), domain
    assert open_finding("SE-05", "risk-analytics") is None


def test_another_profiles_private_space_and_another_domain(reviewed: Any) -> None:
    # The isolation policy allows Create* in the domain, apps in anyone's space included; AWS's managed policy
    # limits private-space apps to their owner.
    se08 = open_finding("SE-08", "risk-analytics")
    assert se08 is not None and "CreateApp" in str(se08.evidence)
    assert open_finding("SE-08", "research-lab") is None
    # Two domains share 314159265358/us-east-1: the quick-start role may touch risk-analytics' resources, the
    # isolated one may not. Alone in its account and region, research-lab is not flagged.
    tg01 = open_finding("TG-01", "quickstart-sandbox")
    assert tg01 is not None and "risk-analytics" in str(tg01.evidence)
    assert "another domain's resources" in str(tg01.evidence)
    assert open_finding("TG-01", "risk-analytics") is None
    assert open_finding("TG-01", "research-lab") is None


def test_the_checks_read_stored_results_and_never_call_aws(reviewed: Any) -> None:
    before = call_counter.snapshot()
    with CaptureQueriesContext(connection) as queries:
        engine.evaluate()
    assert call_counter.snapshot() == before
    # Read once per evaluation, not once per domain: one query for the roles and their answers.
    assert sum('FROM "iamaccess_executionrole"' in q["sql"] for q in queries.captured_queries) == 1
    assert open_finding("SE-06", "sofia-rossi") is not None


def test_a_fixed_role_resolves_its_findings_at_the_next_review(reviewed: Any) -> None:
    import json

    from awssandbox import iam as sandbox_iam
    from iamaccess import review
    from portal.models import TaskRun

    role = ExecutionRole.objects.get(arn=role_arn("risk"))
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyHiddenTools",
                "Effect": "Deny",
                "Action": [
                    "sagemaker:CreateExperiment",
                    "sagemaker:CreateTrial",
                    "sagemaker:CreateMlflowTrackingServer",
                    "sagemaker:CreatePresignedMlflowTrackingServerUrl",
                    "sagemaker:CreateModel",
                    "sagemaker:CreateModelPackage",
                    "sagemaker:CreateModelPackageGroup",
                ],
                "Resource": "*",
            },
            {
                "Sid": "DenyCodeEditor",
                "Effect": "Deny",
                "Action": "sagemaker:CreateApp",
                "Resource": [
                    "arn:aws:sagemaker:*:*:app/*/*/CodeEditor/*",
                    "arn:aws:sagemaker:*:*:app/*/*/codeeditor/*",
                ],
            },
        ],
    }
    sandbox_iam.backend(role.aws_account_id).put_role_policy(role.name, "DenyHiddenTools", json.dumps(deny))
    review.start_review(trigger=TaskRun.Trigger.COMMAND, inline=True)
    finding = Finding.objects.get(check_id="SE-06", resource_name="sofia-rossi")
    assert finding.status == "resolved"


def test_a_profile_that_starts_hiding_canvas_is_flagged_from_the_stored_answers(reviewed: Any) -> None:
    # The checks follow the inventory: a profile that starts hiding Canvas is flagged at the next evaluation, from
    # the role's stored answers (every app type is probed), with no new simulation.
    profile = UserProfile.objects.get(domain__name="quickstart-sandbox", name="kevin-nguyen")
    profile.settings_snapshot = {**profile.settings_snapshot, "StudioWebPortalSettings": {"HiddenAppTypes": ["Canvas"]}}
    profile.save()
    engine.evaluate()
    finding = open_finding("SE-06", "kevin-nguyen")
    assert finding is not None and finding.severity == "high" and "Canvas" in finding.details
    assert "app Canvas: sagemaker:CreateApp" in str(finding.evidence)
