"""The probe mapping of GOVERNANCE.md section 4, per hidden value, and how a probe's answer becomes an outcome."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest

from awssandbox import iam as sandbox_iam
from iamaccess import probes as probing
from iamaccess import simulate
from iamaccess.reader import iam_client
from portal.aws import AccountAccess

DOMAIN_ARN = "arn:aws:sagemaker:eu-west-1:123456789012:domain/d-abc123"
TARGET = probing.DomainTarget("d-abc123", DOMAIN_ARN, "123456789012", "eu-west-1", ("ml.p3.2xlarge",))
SAGEMAKER = botocore.session.get_session().get_service_model("sagemaker")


def by_subject(probes: list[probing.Probe]) -> dict[str, list[probing.Probe]]:
    found: dict[str, list[probing.Probe]] = {}
    for probe in probes:
        found.setdefault(probe.subject, []).append(probe)
    return found


@pytest.mark.parametrize(
    ("hidden", "actions"),
    [
        ("tool:FeatureStore", {"sagemaker:CreateFeatureGroup", "sagemaker:PutRecord", "sagemaker:GetRecord"}),
        (
            "tool:EmrClusters",
            {
                "elasticmapreduce:ListClusters",
                "elasticmapreduce:DescribeCluster",
                "elasticmapreduce:GetClusterSessionCredentials",
            },
        ),
        ("tool:AutoMl", {"sagemaker:CreateAutoMLJob", "sagemaker:CreateAutoMLJobV2"}),
        (
            "tool:Experiments",
            {
                "sagemaker:CreateExperiment",
                "sagemaker:CreateTrial",
                "sagemaker:CreateMlflowTrackingServer",
                "sagemaker:CreatePresignedMlflowTrackingServerUrl",
            },
        ),
        ("tool:Training", {"sagemaker:CreateTrainingJob", "sagemaker:CreateHyperParameterTuningJob"}),
        ("tool:Pipelines", {"sagemaker:CreatePipeline", "sagemaker:StartPipelineExecution"}),
        ("tool:Models", {"sagemaker:CreateModel", "sagemaker:CreateModelPackage", "sagemaker:CreateModelPackageGroup"}),
        ("tool:InferenceRecommender", {"sagemaker:CreateInferenceRecommendationsJob"}),
        (
            "tool:Endpoints",
            {
                "sagemaker:CreateEndpointConfig",
                "sagemaker:CreateEndpoint",
                "sagemaker:UpdateEndpoint",
                "sagemaker:CreateInferenceComponent",
            },
        ),
        ("tool:Projects", {"sagemaker:CreateProject"}),
        ("tool:InferenceOptimization", {"sagemaker:CreateOptimizationJob"}),
        ("tool:Comet", {"sagemaker:CreatePartnerApp", "sagemaker:CreatePartnerAppPresignedUrl"}),
        ("tool:LakeraGuard", {"sagemaker:CreatePartnerApp", "sagemaker:CreatePartnerAppPresignedUrl"}),
        ("tool:HyperPodClusters", {"sagemaker:ListClusters", "sagemaker:DescribeCluster", "sagemaker:CreateCluster"}),
        ("tool:DataWrangler", {"sagemaker:CreateApp", "sagemaker:CreateProcessingJob"}),
        ("tool:ModelEvaluation", {"sagemaker:CreateProcessingJob"}),
        ("app:Canvas", {"sagemaker:CreateApp"}),
        ("app:CodeEditor", {"sagemaker:CreateApp"}),
        ("instance:ml.p3.2xlarge", {"sagemaker:CreateApp", "sagemaker:CreateSpace", "sagemaker:UpdateSpace"}),
        ("other-space", {"sagemaker:CreateApp"}),
    ],
)
def test_each_hidden_value_is_probed_with_the_actions_of_the_mapping(hidden: str, actions: set[str]) -> None:
    assert {p.action for p in by_subject(probing.probes_for(TARGET))[hidden]} == actions


def test_jumpstart_probes_the_hub_training_and_endpoints() -> None:
    actions = {p.action for p in by_subject(probing.probes_for(TARGET))["tool:JumpStart"]}
    assert {"sagemaker:ListHubContents", "sagemaker:DescribeHubContent", "sagemaker:CreateTrainingJob"} <= actions
    assert "sagemaker:CreateEndpoint" in actions


def test_apps_are_probed_on_their_app_arn_in_both_places_studio_puts_them() -> None:
    probes = by_subject(probing.probes_for(TARGET))
    assert probes["app:Canvas"][0].resource.endswith(f":app/d-abc123/{probing.ACTOR}/Canvas/default")
    assert probes["app:JupyterLab"][0].resource.endswith(f":app/d-abc123/{probing.ACTOR}-space/JupyterLab/default")
    other = probes["other-space"][0]
    context = dict(other.context)
    assert context["sagemaker:OwnerUserProfileArn"][0].endswith(f"user-profile/d-abc123/{probing.OTHER}")
    assert context["sagemaker:UserProfileName"] == (probing.ACTOR,)
    assert dict(probes["instance:ml.p3.2xlarge"][0].context)["sagemaker:InstanceTypes"] == ("ml.p3.2xlarge",)


def test_every_ml_tool_and_app_type_of_botocore_is_mapped_or_known_to_need_no_probe() -> None:
    unmapped_tools = set(SAGEMAKER.shape_for("MlTools").enum) - set(probing.TOOL_ACTIONS)
    # Tools botocore lists that GOVERNANCE.md section 4 does not map (no documented action of their own).
    assert unmapped_tools <= {"PerformanceEvaluation", "RunningInstances", "Datasets", "Evaluators"}
    apps = set(SAGEMAKER.shape_for("AppType").enum)
    assert apps == set(probing.SPACE_APPS) | set(probing.PROFILE_APPS) | set(probing.CLASSIC_APPS)
    assert probing.subjects_for_hidden(["JupyterServer", "Canvas"], ["AutoMl", "RunningInstances"]) == [
        "app:Canvas",
        "tool:AutoMl",
    ]


def test_the_probe_key_changes_with_the_probe_set_only() -> None:
    same = probing.probe_key(probing.probe_set([TARGET]))
    assert probing.probe_key(probing.probe_set([TARGET])) == same
    fewer = probing.DomainTarget(TARGET.domain_id, TARGET.arn, TARGET.account_id, TARGET.region, ())
    assert probing.probe_key(probing.probe_set([fewer])) != same


@pytest.mark.parametrize(
    ("decision", "missing", "depends", "outcome"),
    [
        ("allowed", [], False, "allowed"),
        ("explicitDeny", ["aws:PrincipalTag/team"], True, "explicitDeny"),
        ("implicitDeny", [], False, "implicitDeny"),
        ("implicitDeny", ["sagemaker:InstanceTypes"], False, "implicitDeny"),
        ("implicitDeny", ["aws:PrincipalTag/team"], True, "conditional"),
    ],
)
def test_a_deny_that_rests_on_missing_context_is_conditional_never_a_pass(
    decision: str, missing: list[str], depends: bool, outcome: str
) -> None:
    assert probing.outcome_of(decision, missing, depends) == outcome


def _role(account: str, name: str, *statements: dict[str, Any]) -> str:
    backend = sandbox_iam.backend(account)
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    backend.create_role(name, trust, "/", None, "", [], None)
    backend.put_role_policy(name, "Policy", json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))
    return f"arn:aws:iam::{account}:role/{name}"


def test_the_simulator_is_asked_once_per_context_group_and_its_answers_matched_back(aws_sandbox: None) -> None:
    account = "123456789012"
    statements = [
        {"Sid": "Studio", "Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"},
        {
            "Sid": "NoCanvas",
            "Effect": "Deny",
            "Action": "sagemaker:CreateApp",
            "Resource": "arn:aws:sagemaker:*:*:app/*/*/Canvas/*",
        },
        {
            "Sid": "TeamOnlyEndpoints",
            "Effect": "Allow",
            "Action": "sagemaker:CreateEndpoint",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "ml"}},
        },
    ]
    arn = _role(account, "ProbeMe", *statements)
    policies = {"inline": [{"name": "Policy", "document": {"Version": "2012-10-17", "Statement": statements}}]}
    probe_list = probing.probe_set([TARGET])
    results, calls = simulate.simulate(iam_client(AccountAccess(account, None, None)), arn, policies, probe_list)
    groups = {(p.domain_id, p.group) for p in probe_list}
    assert calls >= len(groups) and calls <= 2 * len(groups)  # one call a group, a second page at most
    answers = {(r["subject"], r["action"]): r for r in results}
    canvas = answers[("app:Canvas", "sagemaker:CreateApp")]
    assert canvas["outcome"] == "explicitDeny" and canvas["matched"][0]["statement"] == "NoCanvas"
    lab = answers[("app:JupyterLab", "sagemaker:CreateApp")]
    assert lab["outcome"] == "allowed"
    assert lab["matched"][0] == {"policy": "Policy", "type": "role", "statement": "Studio"}
    emr = answers[("tool:EmrClusters", "elasticmapreduce:ListClusters")]
    assert emr["outcome"] == "implicitDeny" and emr["matched"] == []
    assert len(results) == len(probe_list)


def test_an_allow_that_needs_a_value_the_probe_lacks_is_conditional(aws_sandbox: None) -> None:
    account = "123456789012"
    statement = {
        "Sid": "TeamOnlyEndpoints",
        "Effect": "Allow",
        "Action": "sagemaker:CreateEndpoint",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "ml"}},
    }
    arn = _role(account, "Conditional", statement)
    policies = {"inline": [{"name": "Policy", "document": {"Version": "2012-10-17", "Statement": [statement]}}]}
    probe_list = [p for p in probing.probes_for(TARGET) if p.action == "sagemaker:CreateEndpoint"]
    results, _ = simulate.simulate(iam_client(AccountAccess(account, None, None)), arn, policies, probe_list)
    assert {r["outcome"] for r in results} == {"conditional"}
    assert all("aws:PrincipalTag/team" in r["missing"] for r in results)
