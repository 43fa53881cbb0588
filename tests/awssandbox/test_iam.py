"""Contract tests of the sandbox's IAM: the policy simulator in botocore's shape, in process and over HTTP, the demo
organisation's roles, and the portal's own role policy."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from awssandbox import iamseed, organisation
from awssandbox.server import ThreadedSandbox, reset_backends
from portal.iam import MANAGED_POLICY_LIMIT, POLICY_PATH, portal_role_policy, portal_role_statements
from portal.sandboxing import demo_inputs
from tests.awssandbox.contract import validate

ACCOUNT = "123456789012"
APP = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:app/d-abc123def456/maria/JupyterLab/default"
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def make_client(service: str, endpoint: str | None, **creds: str) -> Any:
    creds = creds or {"aws_access_key_id": "x", "aws_secret_access_key": "x"}
    return boto3.client(service, region_name="us-east-1", endpoint_url=endpoint, **creds)


@pytest.fixture(params=["in-process", "http"])
def endpoint(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The same checks against the in-process sandbox and against the loopback server with plain boto3."""
    if request.param == "in-process":
        request.getfixturevalue("aws_sandbox")
        yield None
        return
    reset_backends()
    server = ThreadedSandbox().start()
    try:
        yield server.url
    finally:
        server.stop()
        reset_backends()


@pytest.fixture
def iam(endpoint: str | None) -> Any:
    return make_client("iam", endpoint)


def checked(client: Any, method: str, **params: Any) -> dict[str, Any]:
    """Call and check the parsed answer against botocore's output model (IAM answers XML, so the parsed form)."""
    answer = getattr(client, method)(**params)
    body = {k: v for k, v in answer.items() if k != "ResponseMetadata"}
    operation = client.meta.method_to_api_mapping[method]
    problems = validate(client.meta.service_model.operation_model(operation).output_shape, body)
    assert not problems, "\n".join(problems)
    return answer


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def decisions(answer: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(r["EvalActionName"], r["EvalResourceName"], r["EvalDecision"]) for r in answer["EvaluationResults"]]


def test_simulate_custom_policy_answers_in_botocores_shape(iam: Any) -> None:
    guard = doc(
        {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"},
        {
            "Sid": "Types",
            "Effect": "Deny",
            "Action": "sagemaker:CreateApp",
            "Resource": "*",
            "Condition": {"ForAnyValue:StringNotLike": {"sagemaker:InstanceTypes": ["ml.t3.*", "system"]}},
        },
    )
    answer = checked(
        iam,
        "simulate_custom_policy",
        PolicyInputList=[guard],
        ActionNames=["sagemaker:CreateApp", "sagemaker:ListApps", "s3:GetObject"],
        ResourceArns=[APP],
        ContextEntries=[
            {
                "ContextKeyName": "sagemaker:InstanceTypes",
                "ContextKeyValues": ["ml.p3.2xlarge"],
                "ContextKeyType": "stringList",
            }
        ],
    )
    assert decisions(answer) == [
        ("sagemaker:CreateApp", APP, "explicitDeny"),
        ("sagemaker:ListApps", APP, "allowed"),
        ("s3:GetObject", APP, "implicitDeny"),
    ]
    assert answer["EvaluationResults"][0]["MatchedStatements"] == [
        {"SourcePolicyId": "PolicyInputList.1", "SourcePolicyType": "none"}
    ]
    assert answer["IsTruncated"] is False


def test_missing_context_values_are_listed(iam: Any) -> None:
    scoped = doc(
        {
            "Effect": "Allow",
            "Action": "sagemaker:CreateApp",
            "Resource": "arn:aws:sagemaker:*:*:app/${sagemaker:DomainId}/*",
            "Condition": {"StringEquals": {"aws:RequestTag/sagemaker:domain-arn": "arn:aws:sagemaker:x"}},
        }
    )
    answer = checked(
        iam, "simulate_custom_policy", PolicyInputList=[scoped], ActionNames=["sagemaker:CreateApp"], ResourceArns=[APP]
    )
    result = answer["EvaluationResults"][0]
    assert result["EvalDecision"] == "implicitDeny"
    assert result["MissingContextValues"] == ["aws:RequestTag/sagemaker:domain-arn", "sagemaker:DomainId"]


def test_results_page_with_max_items_and_marker(iam: Any) -> None:
    actions = [f"sagemaker:Describe{n}" for n in ("Domain", "UserProfile", "Space", "App", "Endpoint")]
    whole = decisions(iam.simulate_custom_policy(PolicyInputList=[ALLOW_ALL], ActionNames=actions))
    pages: list[tuple[str, str, str]] = []
    marker: dict[str, str] = {}
    while True:
        answer = checked(
            iam, "simulate_custom_policy", PolicyInputList=[ALLOW_ALL], ActionNames=actions, MaxItems=2, **marker
        )
        pages += decisions(answer)
        assert len(answer["EvaluationResults"]) <= 2
        if not answer["IsTruncated"]:
            assert "Marker" not in answer
            break
        marker = {"Marker": answer["Marker"]}
    assert pages == whole and len(whole) == 5
    paginated = iam.get_paginator("simulate_custom_policy").paginate(
        PolicyInputList=[ALLOW_ALL], ActionNames=actions, PaginationConfig={"PageSize": 3}
    )
    assert [d for page in paginated for d in decisions(page)] == whole


@pytest.mark.parametrize(
    "params",
    [
        {"PolicyInputList": ["{not json"], "ActionNames": ["sagemaker:CreateApp"]},
        {"PolicyInputList": [doc({"Effect": "Perhaps", "Action": "*", "Resource": "*"})], "ActionNames": ["s3:Get"]},
        {"PolicyInputList": [ALLOW_ALL], "ActionNames": ["s3:Get"], "MaxItems": 1001},
        {"PolicyInputList": [ALLOW_ALL], "ActionNames": ["s3:Get"], "Marker": "not-a-marker"},
        {"PolicyInputList": [ALLOW_ALL], "ActionNames": ["s3:Get"], "ResourcePolicy": ALLOW_ALL},
    ],
    ids=["not-json", "bad-effect", "max-items", "marker", "resource-policy"],
)
def test_bad_input_is_invalid_input(iam: Any, params: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        iam.simulate_custom_policy(**params)
    assert code(exc) == "InvalidInput"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_simulate_principal_policy_reads_inline_attached_and_boundary_policies(iam: Any) -> None:
    boundary = iam.create_policy(
        PolicyName="Boundary", PolicyDocument=doc({"Effect": "Allow", "Action": "sagemaker:*App", "Resource": "*"})
    )["Policy"]["Arn"]
    managed = iam.create_policy(
        PolicyName="Studio", PolicyDocument=doc({"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"})
    )["Policy"]["Arn"]
    role = iam.create_role(RoleName="Exec", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=boundary)["Role"]["Arn"]
    iam.attach_role_policy(RoleName="Exec", PolicyArn=managed)
    iam.put_role_policy(
        RoleName="Exec",
        PolicyName="NoDelete",
        PolicyDocument=doc({"Effect": "Deny", "Action": "sagemaker:DeleteApp", "Resource": "*"}),
    )
    answer = checked(
        iam,
        "simulate_principal_policy",
        PolicySourceArn=role,
        ActionNames=["sagemaker:CreateApp", "sagemaker:DeleteApp", "sagemaker:CreateEndpoint"],
    )
    results = answer["EvaluationResults"]
    assert [r["EvalDecision"] for r in results] == ["allowed", "explicitDeny", "implicitDeny"]
    assert {"SourcePolicyId": managed, "SourcePolicyType": "user-managed"} in results[0]["MatchedStatements"]
    assert results[1]["MatchedStatements"] == [{"SourcePolicyId": "NoDelete", "SourcePolicyType": "role"}]
    assert results[2]["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    # PolicyExclusionList leaves a managed policy out; PermissionsBoundaryPolicyInputList replaces the boundary.
    without = iam.simulate_principal_policy(
        PolicySourceArn=role,
        ActionNames=["sagemaker:CreateApp"],
        PolicyExclusionList=[{"PolicyArn": managed}],
    )
    assert without["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
    wider = iam.simulate_principal_policy(
        PolicySourceArn=role, ActionNames=["sagemaker:CreateEndpoint"], PermissionsBoundaryPolicyInputList=[ALLOW_ALL]
    )
    assert wider["EvaluationResults"][0]["EvalDecision"] == "allowed"
    unbounded = iam.simulate_principal_policy(
        PolicySourceArn=role,
        ActionNames=["sagemaker:CreateEndpoint", "sagemaker:DeleteApp"],
        PolicyExclusionList=[
            {"PolicyType": "permission-boundary"},
            {"InlinePolicyIdentifier": {"PolicyName": "NoDelete", "AttachmentType": "role", "AttachmentName": "Exec"}},
        ],
    )
    assert [r["EvalDecision"] for r in unbounded["EvaluationResults"]] == ["allowed", "allowed"]


def test_a_users_group_policies_count_and_the_principal_fills_its_own_keys(iam: Any) -> None:
    iam.create_user(UserName="maria")
    iam.create_group(GroupName="scientists")
    iam.add_user_to_group(GroupName="scientists", UserName="maria")
    mine = doc(
        {
            "Effect": "Allow",
            "Action": "sagemaker:CreateApp",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
        }
    )
    iam.put_group_policy(GroupName="scientists", PolicyName="Apps", PolicyDocument=mine)
    user = f"arn:aws:iam::{ACCOUNT}:user/maria"
    answer = iam.simulate_principal_policy(PolicySourceArn=user, ActionNames=["sagemaker:CreateApp"])
    assert answer["EvaluationResults"][0]["EvalDecision"] == "allowed"
    assert answer["EvaluationResults"][0]["MatchedStatements"] == [
        {"SourcePolicyId": "Apps", "SourcePolicyType": "group"}
    ]


def test_an_unknown_principal_is_no_such_entity(iam: Any) -> None:
    with pytest.raises(ClientError) as exc:
        iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:role/Nobody", ActionNames=["s3:Get"])
    assert code(exc) == "NoSuchEntity"


# -- the demo organisation ---------------------------------------------------------------------------------------
@pytest.fixture
def demo(endpoint: str | None) -> dict[str, Any]:
    """The demo organisation seeded; an IAM client per demo account, through the portal's role as the portal does."""
    organisation.seed(demo_inputs(), with_costs=False)
    sts = make_client("sts", endpoint)
    clients = {}
    for account in organisation.DEMO_ACCOUNTS:
        creds = sts.assume_role(RoleArn=organisation.role_arn(account), RoleSessionName="portal")["Credentials"]
        clients[account] = make_client(
            "iam",
            endpoint,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
    return clients


def plan(key: str) -> organisation.DomainPlan:
    return next(p for p in organisation.DOMAINS if p.key == key)


def probe(demo: dict[str, Any], key: str, action: str, resource: str, **context: list[str]) -> dict[str, Any]:
    p = plan(key)
    entries = [{"ContextKeyName": k, "ContextKeyValues": v, "ContextKeyType": "stringList"} for k, v in context.items()]
    answer = demo[p.account_id].simulate_principal_policy(
        PolicySourceArn=p.user_settings["ExecutionRole"],
        ActionNames=[action],
        ResourceArns=[resource],
        ContextEntries=entries,
    )
    return answer["EvaluationResults"][0]


def arn(key: str, kind: str) -> str:
    p = plan(key)
    return f"arn:aws:sagemaker:{p.region}:{p.account_id}:{kind}"


def test_every_role_the_demo_names_exists_with_the_policies_planned(demo: dict[str, Any]) -> None:
    full_access = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
    attached: dict[str, list[str]] = {}
    for p in organisation.DOMAINS:
        name = p.user_settings["ExecutionRole"].rsplit("/", 1)[-1]
        client = demo[p.account_id]
        assert client.get_role(RoleName=name)["Role"]["Arn"] == p.user_settings["ExecutionRole"]
        attached[p.key] = [
            a["PolicyArn"] for a in client.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        ]
    assert full_access not in attached["risk"]
    assert all(full_access in attached[k] for k in ("fraud", "research", "legacy", "quick"))
    legacy = demo[plan("legacy").account_id].get_role(RoleName="ForecastingExecution")["Role"]
    assert legacy["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith(":policy/StudioNotebooksBoundary")
    policy = demo[plan("fraud").account_id].get_policy(PolicyArn=full_access)["Policy"]
    assert policy["DefaultVersionId"] == "v29"  # moto's copy of AWS's document


def test_against_full_access_hidden_tools_are_allowed(demo: dict[str, Any]) -> None:
    # GOVERNANCE section 4: Canvas CreateApp, CreateEndpoint, CreateAutoMLJobV2 and CreateFeatureGroup all allowed.
    for action, resource in [
        ("sagemaker:CreateApp", arn("quick", "app/d-1/kevin-nguyen/Canvas/default")),
        ("sagemaker:CreateEndpoint", arn("quick", "endpoint/e")),
        ("sagemaker:CreateAutoMLJobV2", arn("quick", "automl-job/j")),
        ("sagemaker:CreateFeatureGroup", arn("quick", "feature-group/f")),
    ]:
        assert probe(demo, "quick", action, resource)["EvalDecision"] == "allowed", action


def test_the_regulated_domain_is_isolated_and_denies_automl_but_hidden_experiments_stay_allowed(
    demo: dict[str, Any],
) -> None:
    tag_key = "aws:RequestTag/sagemaker:domain-arn"
    assert tag_key in iamseed.domain_isolation("arn:aws:sagemaker:x")
    own = {tag_key: [demo_domain_arn("risk")]}
    assert (
        probe(demo, "risk", "sagemaker:CreateExperiment", arn("risk", "experiment/e"), **own)["EvalDecision"]
        == "allowed"
    )
    assert (
        probe(demo, "risk", "sagemaker:CreateAutoMLJobV2", arn("risk", "automl-job/j"), **own)["EvalDecision"]
        == "explicitDeny"
    )
    other = {tag_key: [demo_domain_arn("fraud")]}
    assert (
        probe(demo, "risk", "sagemaker:CreateExperiment", arn("risk", "experiment/e"), **other)["EvalDecision"]
        == "explicitDeny"
    )
    untagged = probe(demo, "risk", "sagemaker:CreateModel", arn("risk", "model/m"))
    assert untagged["EvalDecision"] == "implicitDeny"
    assert tag_key in untagged["MissingContextValues"]


def demo_domain_arn(key: str) -> str:
    from awssandbox.studio import studio_state

    p = plan(key)
    return next(d.arn for d in studio_state(p.account_id, p.region).domains.values() if d.name == p.name)


def test_the_instance_type_deny_enforces_hidden_instance_types_on_payments_fraud(demo: dict[str, Any]) -> None:
    app = arn("fraud", "app/d-1/ines-moreau/JupyterLab/default")
    hidden = probe(demo, "fraud", "sagemaker:CreateApp", app, **{"sagemaker:InstanceTypes": ["ml.p3.2xlarge"]})
    assert hidden["EvalDecision"] == "explicitDeny"
    assert hidden["MatchedStatements"] == [{"SourcePolicyId": "ApprovedInstanceTypes", "SourcePolicyType": "role"}]
    assert probe(demo, "fraud", "sagemaker:CreateModel", arn("fraud", "model/m"))["EvalDecision"] == "allowed"


def test_the_boundary_on_the_legacy_role_stops_training(demo: dict[str, Any]) -> None:
    training = probe(demo, "legacy", "sagemaker:CreateTrainingJob", arn("legacy", "training-job/t"))
    assert training["EvalDecision"] == "implicitDeny"
    assert training["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    experiment = probe(demo, "legacy", "sagemaker:CreateExperiment", arn("legacy", "experiment/e"))
    assert experiment["EvalDecision"] == "allowed"


def test_the_space_owner_policy_limits_spaces_to_their_owner_on_research(demo: dict[str, Any]) -> None:
    p = plan("research")
    domain_id = demo_domain_arn("research").rsplit("/", 1)[-1]
    space = arn("research", f"space/{domain_id}/maria-lab")
    owner = f"arn:aws:sagemaker:{p.region}:{p.account_id}:user-profile/{domain_id}/maria-garcia"
    context = {
        "sagemaker:DomainId": [domain_id],
        "sagemaker:UserProfileName": ["maria-garcia"],
        "aws:Region": [p.region],
        "sagemaker:OwnerUserProfileArn": [owner],
        "sagemaker:SpaceSharingType": ["Private"],
    }
    result = probe(demo, "research", "sagemaker:CreateSpace", space, **context)
    assert result["EvalDecision"] == "allowed"
    sources = {m["SourcePolicyId"].rsplit("/", 1)[-1] for m in result["MatchedStatements"]}
    assert "StudioSpacesToTheirOwner" in sources


# -- the portal's own role ---------------------------------------------------------------------------------------
# Each AWS call the portal makes (portal/aws.py and its callers), with the resource it acts on.
PORTAL_CALLS = [
    ("sagemaker:ListDomains", "*"),
    ("sagemaker:DescribeDomain", "arn:aws:sagemaker:us-east-1:{a}:domain/d-1"),
    ("sagemaker:ListUserProfiles", "*"),
    ("sagemaker:DescribeUserProfile", "arn:aws:sagemaker:us-east-1:{a}:user-profile/d-1/maria"),
    ("sagemaker:ListSpaces", "*"),
    ("sagemaker:DescribeSpace", "arn:aws:sagemaker:us-east-1:{a}:space/d-1/lab"),
    ("sagemaker:ListApps", "*"),
    ("sagemaker:DescribeApp", "arn:aws:sagemaker:us-east-1:{a}:app/d-1/maria/JupyterLab/default"),
    ("sagemaker:ListTags", "arn:aws:sagemaker:us-east-1:{a}:domain/d-1"),
    ("ce:GetCostAndUsage", "*"),
    ("ce:ListCostAllocationTags", "*"),
    ("ce:ListCostAllocationTagBackfillHistory", "*"),
    ("ce:StartCostAllocationTagBackfill", "*"),
    ("sagemaker:CreateUserProfile", "arn:aws:sagemaker:us-east-1:{a}:user-profile/d-1/maria"),
    ("sagemaker:CreateSpace", "arn:aws:sagemaker:us-east-1:{a}:space/d-1/lab"),
    ("sagemaker:DeleteSpace", "arn:aws:sagemaker:us-east-1:{a}:space/d-1/lab"),
    ("sagemaker:DeleteApp", "arn:aws:sagemaker:us-east-1:{a}:app/d-1/lab/JupyterLab/default"),
    ("sagemaker:CreatePresignedDomainUrl", "arn:aws:sagemaker:us-east-1:{a}:user-profile/d-1/maria"),
    ("iam:SimulatePrincipalPolicy", "arn:aws:iam::{a}:role/Exec"),
    ("iam:GetRole", "arn:aws:iam::{a}:role/Exec"),
    ("iam:ListAttachedRolePolicies", "arn:aws:iam::{a}:role/Exec"),
    ("sagemaker:ListModels", "*"),
    ("sagemaker:DescribeModel", "arn:aws:sagemaker:us-east-1:{a}:model/m"),
    ("sagemaker:ListEndpointConfigs", "*"),
    ("sagemaker:DescribeEndpointConfig", "arn:aws:sagemaker:us-east-1:{a}:endpoint-config/c"),
    ("sagemaker:ListProcessingJobs", "*"),
    ("sagemaker:DescribeProcessingJob", "arn:aws:sagemaker:us-east-1:{a}:processing-job/p"),
    ("tag:GetResources", "*"),
    ("iam:GetAccountAuthorizationDetails", "*"),
    ("iam:SimulateCustomPolicy", "*"),  # the isolation rollout's lock-out
]


def test_the_portals_role_may_make_every_call_the_portal_makes_and_no_other_write(demo: dict[str, Any]) -> None:
    for account, client in demo.items():
        role = organisation.role_arn(account)
        assert client.get_role_policy(RoleName=organisation.PORTAL_ROLE, PolicyName=organisation.PORTAL_ROLE)[
            "PolicyDocument"
        ] == json.loads(portal_role_policy())
        for action, resource in PORTAL_CALLS:
            answer = client.simulate_principal_policy(
                PolicySourceArn=role, ActionNames=[action], ResourceArns=[resource.format(a=account)]
            )
            assert answer["EvaluationResults"][0]["EvalDecision"] == "allowed", action
        tagging = client.simulate_principal_policy(
            PolicySourceArn=role,
            ActionNames=["sagemaker:AddTags"],
            ResourceArns=[f"arn:aws:sagemaker:us-east-1:{account}:space/d-1/lab"],
            ContextEntries=[
                {
                    "ContextKeyName": "sagemaker:TaggingAction",
                    "ContextKeyValues": ["CreateSpace"],
                    "ContextKeyType": "string",
                }
            ],
        )
        assert tagging["EvaluationResults"][0]["EvalDecision"] == "allowed"
        for action in ("sagemaker:DeleteDomain", "sagemaker:CreateDomain", "sagemaker:AddTags", "iam:PutRolePolicy"):
            answer = client.simulate_principal_policy(PolicySourceArn=role, ActionNames=[action])
            assert answer["EvaluationResults"][0]["EvalDecision"] == "implicitDeny", action


def test_the_portal_role_policy_is_valid_json_under_iams_limit_and_split_read_from_write() -> None:
    document = json.loads(POLICY_PATH.read_text())
    assert document["Version"] == "2012-10-17"
    assert len(re.sub(r"\s", "", POLICY_PATH.read_text())) < MANAGED_POLICY_LIMIT
    read_only = [a for s in portal_role_statements("ReadOnly") for a in s["Action"]]
    writes = [
        a
        for s in portal_role_statements("Write")
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert len(portal_role_statements("ReadOnly")) + len(portal_role_statements("Write")) == len(document["Statement"])
    verbs = re.compile(r"^[a-z]+:(List|Describe|Get|Search|Simulate)")
    assert all(verbs.match(a) for a in read_only)
    assert not any(verbs.match(a) for a in writes)
    assert {a for a, _ in PORTAL_CALLS} <= set(read_only) | set(writes)


def test_the_readme_shows_every_action_of_the_portal_role_policy() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "portal/iam/portal-role-policy.json" in readme
    for statement in json.loads(portal_role_policy())["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            assert f"`{action}`" in readme, action


# GOVERNANCE section 4's probes for what the demo hides in profiles' UI, with the context the check will send.
HIDDEN_PROBES = {
    "CodeEditor": ("sagemaker:CreateApp", "app/{d}/{p}/CodeEditor/default", {}),
    "AutoMl": ("sagemaker:CreateAutoMLJobV2", "automl-job/probe", {}),
    "Experiments": ("sagemaker:CreateExperiment", "experiment/probe", {}),
    "Models": ("sagemaker:CreateModel", "model/probe", {}),
    "ml.p3.2xlarge": (
        "sagemaker:CreateApp",
        "app/{d}/{p}/JupyterLab/default",
        {"sagemaker:InstanceTypes": ["ml.p3.2xlarge"]},
    ),
}
EXPECTED_HIDDEN = {
    "risk": {"CodeEditor": "allowed", "AutoMl": "explicitDeny", "Experiments": "allowed", "Models": "allowed",
             "ml.p3.2xlarge": "allowed"},
    "fraud": {"CodeEditor": "allowed", "AutoMl": "allowed", "Experiments": "allowed", "Models": "allowed",
              "ml.p3.2xlarge": "explicitDeny"},
}  # fmt: skip


def test_hidden_tools_are_partly_still_allowed_and_partly_enforced(demo: dict[str, Any]) -> None:
    for key, people in organisation.HIDDEN_TOOLS.items():
        domain_arn = demo_domain_arn(key)
        domain_id = domain_arn.rsplit("/", 1)[-1]
        for person in people:
            found = {}
            for tool, (action, resource, extra) in HIDDEN_PROBES.items():
                context = {
                    "aws:RequestTag/sagemaker:domain-arn": [domain_arn],
                    "sagemaker:DomainId": [domain_id],
                    "sagemaker:UserProfileName": [person],
                    **extra,
                }
                result = probe(demo, key, action, arn(key, resource.format(d=domain_id, p=person)), **context)
                found[tool] = result["EvalDecision"]
            assert found == EXPECTED_HIDDEN[key], (key, person)
