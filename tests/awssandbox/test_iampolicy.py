"""The IAM evaluator, rule by rule, against AWS's documented evaluation logic (IAM user guide pages cited)."""

from __future__ import annotations

from typing import Any

import pytest

from awssandbox.iampolicy import (
    ALLOWED,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    Policy,
    PolicyError,
    evaluate,
    simulate,
)

APP = "arn:aws:sagemaker:eu-west-1:111122223333:app/d-abc123def456/maria/JupyterLab/default"
PROFILE = "arn:aws:sagemaker:eu-west-1:1:user-profile/d-1/maria"
SPACE = "arn:aws:sagemaker:eu-west-1:111122223333:space/d-abc123def456/lab"


def policy(*statements: dict[str, Any], source: str = "PolicyInputList.1") -> Policy:
    return Policy({"Version": "2012-10-17", "Statement": list(statements)}, source)


def allow(action: Any = "sagemaker:*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any = "sagemaker:*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def decide(
    statements: list[dict[str, Any]], action: str = "sagemaker:CreateApp", resource: str = APP, **kw: Any
) -> str:
    return evaluate(action, resource, [policy(*statements)], **kw).decision


# reference_policies_evaluation-logic.html: "By default, all requests are implicitly denied".
def test_without_any_allow_the_request_is_implicitly_denied() -> None:
    assert evaluate("sagemaker:CreateApp", APP, []).decision == IMPLICIT_DENY
    assert decide([allow("sagemaker:ListApps")]) == IMPLICIT_DENY


# reference_policies_evaluation-logic.html: "An explicit allow in an identity-based ... policy overrides this default".
def test_an_allow_that_matches_allows_and_names_its_statement() -> None:
    result = evaluate("sagemaker:CreateApp", APP, [policy(allow(), source="StudioPolicy")])
    assert result.decision == ALLOWED
    assert result.matched == [{"SourcePolicyId": "StudioPolicy", "SourcePolicyType": "none"}]


# reference_policies_evaluation-logic.html: "An explicit deny in any policy overrides any allows".
def test_an_explicit_deny_wins_over_any_allow_in_any_policy() -> None:
    result = evaluate(
        "sagemaker:CreateApp", APP, [policy(allow()), policy(deny("sagemaker:CreateApp"), source="Guard")]
    )
    assert result.decision == EXPLICIT_DENY
    assert result.matched == [{"SourcePolicyId": "Guard", "SourcePolicyType": "none"}]


# reference_policies_elements_action.html: action names are case-insensitive; * and ? are wildcards.
@pytest.mark.parametrize(
    ("pattern", "expected"),
    [("sagemaker:Create*", ALLOWED), ("SageMaker:createapp", ALLOWED), ("sagemaker:CreateAp?", ALLOWED),
     ("sagemaker:Delete*", IMPLICIT_DENY), ("*", ALLOWED)],
)  # fmt: skip
def test_actions_match_with_wildcards_and_without_case(pattern: str, expected: str) -> None:
    assert decide([allow(pattern)]) == expected


# reference_policies_elements_notaction.html: NotAction with Allow allows every action except those listed.
def test_not_action_allows_everything_but_what_it_lists() -> None:
    statement = {"Effect": "Allow", "NotAction": ["sagemaker:CreateApp"], "Resource": "*"}
    assert decide([statement]) == IMPLICIT_DENY
    assert decide([statement], action="sagemaker:DeleteApp") == ALLOWED


# reference_policies_elements_resource.html: ARNs with wildcards; reference_policies_elements_notresource.html.
def test_resource_and_not_resource_match_arns_with_wildcards() -> None:
    assert decide([allow(resource="arn:aws:sagemaker:*:*:app/*")]) == ALLOWED
    assert decide([allow(resource="arn:aws:sagemaker:*:*:space/*")]) == IMPLICIT_DENY
    assert decide([allow(resource="arn:aws:sagemaker:eu-west-?:111122223333:app/*/maria/*")]) == ALLOWED
    not_app = {"Effect": "Allow", "Action": "sagemaker:*", "NotResource": ["arn:aws:sagemaker:*:*:app/*"]}
    assert decide([not_app]) == IMPLICIT_DENY
    assert decide([not_app], resource=SPACE) == ALLOWED


# reference_policies_variables.html: ${aws:...} and service keys are replaced by the request's values;
# "If there is no value ... the policy does not match"; ${*}, ${?}, ${$} stand for the characters themselves.
def test_policy_variables_take_the_request_context_and_a_missing_one_does_not_match() -> None:
    statement = allow(resource="arn:aws:sagemaker:*:*:app/${sagemaker:DomainId}/${aws:username}/*")
    result = evaluate("sagemaker:CreateApp", APP, [policy(statement)], context={"sagemaker:DomainId": "d-abc123def456"})
    assert result.decision == IMPLICIT_DENY
    assert result.missing == ["aws:username"]
    context = {"sagemaker:DomainId": "d-abc123def456", "aws:username": "maria"}
    assert decide([statement], context=context) == ALLOWED
    assert decide([statement], context={**context, "aws:username": "m*"}) == IMPLICIT_DENY  # values are literal
    starred = allow("s3:GetObject", resource="arn:aws:s3:::bucket/${*}")
    assert evaluate("s3:GetObject", "arn:aws:s3:::bucket/*", [policy(starred)]).decision == ALLOWED
    assert evaluate("s3:GetObject", "arn:aws:s3:::bucket/a", [policy(starred)]).decision == IMPLICIT_DENY


def test_a_variable_with_a_default_uses_it_when_the_key_is_missing() -> None:
    statement = allow(resource="arn:aws:sagemaker:*:*:app/*/${aws:username, 'maria'}/*")
    assert decide([statement]) == ALLOWED


# reference_policies_condition-logic-multiple-context-keys.html: several operators AND, several keys AND,
# several values of one key OR.
def test_condition_blocks_and_keys_are_anded_and_values_ored() -> None:
    statement = allow(
        Condition={
            "StringEquals": {"sagemaker:SpaceSharingType": ["Private", "Shared"], "aws:RequestedRegion": "eu-west-1"},
            "StringLike": {"sagemaker:UserProfileName": "mar*"},
        }
    )
    context = {
        "sagemaker:SpaceSharingType": "Shared",
        "aws:RequestedRegion": "eu-west-1",
        "sagemaker:UserProfileName": "maria",
    }
    assert decide([statement], context=context) == ALLOWED
    assert decide([statement], context={**context, "aws:RequestedRegion": "us-east-1"}) == IMPLICIT_DENY
    assert decide([statement], context={**context, "sagemaker:UserProfileName": "wei"}) == IMPLICIT_DENY


# reference_policies_elements_condition_operators.html, string operators: Equals is case-sensitive,
# IgnoreCase is not, Like takes * and ?; negated operators are true when no value matches.
@pytest.mark.parametrize(
    ("operator", "policy_value", "request_value", "holds"),
    [
        ("StringEquals", "Maria", "maria", False),
        ("StringEqualsIgnoreCase", "Maria", "maria", True),
        ("StringNotEquals", "maria", "wei", True),
        ("StringNotEqualsIgnoreCase", "MARIA", "maria", False),
        ("StringLike", "ml.t3.*", "ml.t3.medium", True),
        ("StringLike", "ml.t3.?arge", "ml.t3.large", True),
        ("StringNotLike", "ml.t3.*", "ml.p3.2xlarge", True),
        ("NumericLessThan", "100", "60", True),
        ("NumericLessThanEquals", "60", "60", True),
        ("NumericGreaterThan", "100", "60", False),
        ("NumericGreaterThanEquals", "60", "61", True),
        ("NumericEquals", "60", "60.0", True),
        ("NumericNotEquals", "60", "61", True),
        ("NumericEquals", "60", "sixty", False),
        ("Bool", "true", "TRUE", True),
        ("Bool", "true", "false", False),
        ("ArnLike", "arn:aws:sagemaker:*:*:user-profile/d-*/maria", PROFILE, True),
        ("ArnLike", "arn:aws:sagemaker:*:*:user-profile/d-*/m", PROFILE, False),
        ("ArnEquals", "arn:aws:iam::*:role/Exec", "arn:aws:iam::111122223333:role/Exec", True),
        ("ArnNotLike", "arn:aws:iam::*:role/Exec*", "arn:aws:iam::1:role/Other", True),
        ("ArnLike", "arn:aws:sagemaker:*:*:user-profile/*", "arn:aws:sagemaker:eu-west-1:1:space/d-1/x", False),
        ("DateLessThan", "2026-12-31T00:00:00Z", "2026-12-02T17:00:00Z", True),
        ("IpAddress", "10.0.0.0/8", "10.1.2.3", True),
        ("NotIpAddress", "10.0.0.0/8", "10.1.2.3", False),
    ],
)  # fmt: skip
def test_condition_operators(operator: str, policy_value: str, request_value: str, holds: bool) -> None:
    statement = allow(Condition={operator: {"test:Key": policy_value}})
    assert (decide([statement], context={"test:Key": request_value}) == ALLOWED) is holds


# reference_policies_elements_condition_operators.html: "If the key that you specify in a policy condition is not
# present in the request context, the values do not match" (positive operators); negated operators then hold;
# ...IfExists: "If the key is not present, evaluate the condition element as true".
def test_a_missing_key_fails_positive_operators_passes_negated_ones_and_ifexists() -> None:
    assert decide([allow(Condition={"StringEquals": {"test:Key": "x"}})]) == IMPLICIT_DENY
    assert decide([allow(Condition={"StringNotEquals": {"test:Key": "x"}})]) == ALLOWED
    assert decide([allow(Condition={"StringEqualsIfExists": {"test:Key": "x"}})]) == ALLOWED
    assert (
        decide([allow(Condition={"StringEqualsIfExists": {"test:Key": "x"}})], context={"test:Key": "y"})
        == IMPLICIT_DENY
    )
    assert (
        decide([allow(Condition={"NumericLessThanIfExists": {"test:Key": "5"}})], context={"test:Key": "3"}) == ALLOWED
    )


def test_missing_keys_of_matching_statements_are_reported() -> None:
    result = evaluate(
        "sagemaker:CreateApp", APP, [policy(allow(Condition={"StringEquals": {"sagemaker:DomainId": "d-1"}}))]
    )
    assert result.missing == ["sagemaker:DomainId"]
    other_action = evaluate(
        "sagemaker:ListApps", "*", [policy(allow("sagemaker:CreateApp", Condition={"Bool": {"k:K": "true"}}))]
    )
    assert other_action.missing == []


# reference_policies_elements_condition_operators.html#Conditions_Null: "true" the key is absent, "false" present.
def test_null_checks_whether_a_key_is_present() -> None:
    absent = allow(Condition={"Null": {"sagemaker:OwnerUserProfileArn": "true"}})
    present = allow(Condition={"Null": {"sagemaker:OwnerUserProfileArn": "false"}})
    owner = {"sagemaker:OwnerUserProfileArn": "arn:aws:sagemaker:eu-west-1:1:user-profile/d-1/maria"}
    assert decide([absent]) == ALLOWED
    assert decide([absent], context=owner) == IMPLICIT_DENY
    assert decide([present], context=owner) == ALLOWED
    assert evaluate("sagemaker:CreateApp", APP, [policy(absent)]).missing == []


# reference_policies_condition-logic-multiple-context-keys.html: ForAllValues is true when every request value
# matches (and when the key is missing or empty); ForAnyValue when at least one does (false when missing).
@pytest.mark.parametrize(
    ("operator", "values", "holds"),
    [
        ("ForAllValues:StringLike", ["ml.t3.medium", "system"], True),
        ("ForAllValues:StringLike", ["ml.t3.medium", "ml.p3.2xlarge"], False),
        ("ForAllValues:StringLike", None, True),
        ("ForAnyValue:StringLike", ["ml.p3.2xlarge", "ml.t3.medium"], True),
        ("ForAnyValue:StringLike", ["ml.p3.2xlarge"], False),
        ("ForAnyValue:StringLike", None, False),
        ("ForAnyValue:StringNotLike", ["ml.t3.medium", "ml.p3.2xlarge"], True),
        ("ForAnyValue:StringNotLike", ["ml.t3.medium", "system"], False),
        ("ForAllValues:StringNotLike", ["ml.p3.2xlarge", "ml.g5.xlarge"], True),
        ("ForAllValues:StringNotLike", ["ml.p3.2xlarge", "system"], False),
    ],
)
def test_set_operators_over_multivalued_keys(operator: str, values: list[str] | None, holds: bool) -> None:
    statement = allow(Condition={operator: {"sagemaker:InstanceTypes": ["ml.t3.*", "system"]}})
    context = {"sagemaker:InstanceTypes": values} if values is not None else {}
    assert (decide([statement], context=context) == ALLOWED) is holds


def test_the_instance_type_deny_of_governance_denies_only_types_outside_the_list() -> None:
    guard = deny(
        ["sagemaker:CreateApp", "sagemaker:CreateSpace"],
        Condition={"ForAnyValue:StringNotLike": {"sagemaker:InstanceTypes": ["ml.t3.*", "system"]}},
    )
    statements = [allow(), guard]
    assert decide(statements, context={"sagemaker:InstanceTypes": ["ml.p3.2xlarge"]}) == EXPLICIT_DENY
    assert decide(statements, context={"sagemaker:InstanceTypes": ["ml.t3.large"]}) == ALLOWED
    assert decide(statements) == ALLOWED  # no instance type in the request: the ForAnyValue deny does not apply


# access_policies_boundaries.html: "the effective permissions are the intersection of the identity-based policy
# and the permissions boundary"; "An explicit deny in either of these policies overrides the allow".
def test_a_permissions_boundary_limits_what_the_identity_policy_allows() -> None:
    identity = [policy(allow())]
    boundary = [policy(allow(["sagemaker:CreateApp", "sagemaker:Describe*"]), source="Boundary")]
    inside = evaluate("sagemaker:CreateApp", APP, identity, boundary_policies=boundary)
    outside = evaluate("sagemaker:CreateEndpoint", "*", identity, boundary_policies=boundary)
    assert (inside.decision, inside.allowed_by_boundary) == (ALLOWED, True)
    assert (outside.decision, outside.allowed_by_boundary) == (IMPLICIT_DENY, False)
    # A boundary alone grants nothing.
    assert evaluate("sagemaker:CreateApp", APP, [], boundary_policies=boundary).decision == IMPLICIT_DENY
    # An explicit deny in the boundary wins.
    denying = [policy(allow(), deny("sagemaker:CreateApp"), source="Boundary")]
    assert evaluate("sagemaker:CreateApp", APP, identity, boundary_policies=denying).decision == EXPLICIT_DENY


def test_simulate_answers_every_action_on_every_resource_in_order() -> None:
    results = simulate(
        ["sagemaker:CreateApp", "sagemaker:DeleteApp"], [APP, SPACE], [policy(allow("sagemaker:CreateApp"))]
    )
    assert [(r.action, r.resource, r.decision) for r in results] == [
        ("sagemaker:CreateApp", APP, ALLOWED),
        ("sagemaker:CreateApp", SPACE, ALLOWED),
        ("sagemaker:DeleteApp", APP, IMPLICIT_DENY),
        ("sagemaker:DeleteApp", SPACE, IMPLICIT_DENY),
    ]
    assert [r.resource for r in simulate(["sagemaker:ListApps"], None, [])] == ["*"]


@pytest.mark.parametrize(
    "document",
    [
        "{not json",
        {"Statement": []},
        {"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringSorta": {"k": "v"}}}]},
        {
            "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"ForSome:StringLike": {"k": "v"}}}
            ]
        },
    ],
)
def test_a_malformed_policy_is_refused_with_a_reason(document: Any) -> None:
    with pytest.raises(PolicyError):
        evaluate("sagemaker:CreateApp", APP, [Policy(document)])
