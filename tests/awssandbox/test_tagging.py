"""The Resource Groups Tagging API over Studio ARNs and SageMaker Search with tags and CreatedBy, the way AWS
answers them: in process and over HTTP alike."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from awssandbox import faults
from awssandbox.tagging import set_created_by
from tests.awssandbox.aws_clients import DEFAULT_ACCOUNT, MODES, make_clients
from tests.awssandbox.contract import call_checked
from tests.sandbox_network import placement

ROLE = "arn:aws:iam::123456789012:role/Exec"


@pytest.fixture(params=MODES)
def client(request: pytest.FixtureRequest) -> Any:
    return make_clients(request)


@pytest.fixture
def studio(client: Any) -> dict[str, Any]:
    """A domain with a profile, a space, an app, a tagged model and an untagged one."""
    sm = client("sagemaker")
    domain_id = sm.create_domain(
        DomainName="team",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": ROLE},
        **placement(),
        Tags=[{"Key": "cost-center", "Value": "CC-1"}],
    )["DomainId"]
    profile = sm.create_user_profile(
        DomainId=domain_id, UserProfileName="maria", Tags=[{"Key": "owner", "Value": "maria@example.com"}]
    )["UserProfileArn"]
    space = sm.create_space(
        DomainId=domain_id,
        SpaceName="lab",
        OwnershipSettings={"OwnerUserProfileName": "maria"},
        SpaceSharingSettings={"SharingType": "Private"},
        SpaceSettings={"AppType": "JupyterLab"},
        Tags=[{"Key": "owner", "Value": "maria@example.com"}],
    )["SpaceArn"]
    app = sm.create_app(
        DomainId=domain_id,
        SpaceName="lab",
        AppType="JupyterLab",
        AppName="default",
        Tags=[{"Key": "cost-center", "Value": "CC-1"}],
    )["AppArn"]
    sm.create_model(ModelName="tagged", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "img"})
    sm.create_model(ModelName="untagged", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "img"})
    tagged = sm.describe_model(ModelName="tagged")["ModelArn"]
    sm.add_tags(ResourceArn=tagged, Tags=[{"Key": "cost-center", "Value": "CC-1"}])
    return {
        "sm": sm,
        "tagging": client("resourcegroupstaggingapi"),
        "domain_id": domain_id,
        "domain": sm.describe_domain(DomainId=domain_id)["DomainArn"],
        "profile": profile,
        "space": space,
        "app": app,
        "model": tagged,
        "untagged": sm.describe_model(ModelName="untagged")["ModelArn"],
    }


def tags_of(sm: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=arn)["Tags"]}


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def test_get_resources_lists_studio_resources_with_their_tags(studio: dict[str, Any]) -> None:
    answer = call_checked(studio["tagging"], "get_resources")
    found = {r["ResourceARN"]: {t["Key"]: t["Value"] for t in r["Tags"]} for r in answer["ResourceTagMappingList"]}
    for name in ("domain", "profile", "space", "app", "model"):
        assert name in found or studio[name] in found, name
    assert found[studio["space"]]["owner"] == "maria@example.com"
    assert studio["untagged"] not in found  # only tagged resources come back


def test_get_resources_filters_by_type_and_tags(studio: dict[str, Any]) -> None:
    tagging = studio["tagging"]
    spaces = call_checked(tagging, "get_resources", ResourceTypeFilters=["sagemaker:space"])
    assert [r["ResourceARN"] for r in spaces["ResourceTagMappingList"]] == [studio["space"]]
    cost = tagging.get_resources(TagFilters=[{"Key": "cost-center", "Values": ["CC-1"]}])
    assert {r["ResourceARN"] for r in cost["ResourceTagMappingList"]} == {
        studio["domain"],
        studio["app"],
        studio["model"],
    }
    owners = tagging.get_resources(TagFilters=[{"Key": "owner"}], ResourceTypeFilters=["sagemaker:user-profile"])
    assert [r["ResourceARN"] for r in owners["ResourceTagMappingList"]] == [studio["profile"]]
    assert (
        tagging.get_resources(TagFilters=[{"Key": "cost-center", "Values": ["CC-9"]}])["ResourceTagMappingList"] == []
    )


def test_get_resources_by_arn_list_leaves_out_untagged_and_unknown_arns(studio: dict[str, Any]) -> None:
    unknown = studio["space"].replace("/lab", "/gone")
    answer = call_checked(
        studio["tagging"],
        "get_resources",
        ResourceARNList=[studio["space"], studio["untagged"], unknown, studio["model"]],
    )
    assert {r["ResourceARN"] for r in answer["ResourceTagMappingList"]} == {studio["space"], studio["model"]}


def test_get_resources_refuses_more_than_100_arns_and_arns_with_paging(studio: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        studio["tagging"].get_resources(ResourceARNList=[f"{studio['model']}-{n}" for n in range(101)])
    assert code(exc) == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        studio["tagging"].get_resources(ResourceARNList=[studio["model"]], ResourcesPerPage=10)
    assert code(exc) == "InvalidParameterException"


def test_get_resources_pages_without_repeating_or_dropping(studio: dict[str, Any]) -> None:
    tagging = studio["tagging"]
    every = {r["ResourceARN"] for r in tagging.get_resources()["ResourceTagMappingList"]}
    seen: list[str] = []
    token = ""
    while True:
        page = call_checked(tagging, "get_resources", ResourcesPerPage=2, PaginationToken=token)
        assert len(page["ResourceTagMappingList"]) <= 2
        seen += [r["ResourceARN"] for r in page["ResourceTagMappingList"]]
        token = page["PaginationToken"]
        if not token:
            break
    assert sorted(seen) == sorted(every) and len(seen) == len(every) >= 5


def test_tag_resources_tags_studio_and_moto_resources_and_overwrites_by_key(studio: dict[str, Any]) -> None:
    arns = [studio["domain"], studio["profile"], studio["space"], studio["app"], studio["model"]]
    answer = call_checked(studio["tagging"], "tag_resources", ResourceARNList=arns, Tags={"cost-center": "CC-2"})
    assert answer["FailedResourcesMap"] == {}
    for arn in arns:
        tags = studio["sm"].list_tags(ResourceArn=arn)["Tags"]
        assert [t["Value"] for t in tags if t["Key"] == "cost-center"] == ["CC-2"], arn  # replaced, not appended
    call_checked(studio["tagging"], "untag_resources", ResourceARNList=arns, TagKeys=["cost-center"])
    assert all("cost-center" not in tags_of(studio["sm"], arn) for arn in arns)


def test_tag_resources_refuses_a_batch_outside_aws_limits_and_writes_nothing(studio: dict[str, Any]) -> None:
    tagging = studio["tagging"]
    before = tags_of(studio["sm"], studio["space"])
    with pytest.raises(ClientError) as exc:
        tagging.tag_resources(ResourceARNList=[studio["space"]] * 21, Tags={"team": "a"})
    assert code(exc) == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        tagging.tag_resources(ResourceARNList=[studio["space"]], Tags={f"k{n}": "v" for n in range(51)})
    assert code(exc) == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        tagging.tag_resources(ResourceARNList=[studio["space"]], Tags={"aws:team": "a"})
    assert code(exc) == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        tagging.untag_resources(ResourceARNList=[studio["space"]] * 21, TagKeys=["owner"])
    assert code(exc) == "InvalidParameterException"
    assert tags_of(studio["sm"], studio["space"]) == before


def test_an_unknown_arn_fails_on_its_own(studio: dict[str, Any]) -> None:
    unknown = studio["space"].replace("/lab", "/gone")
    other_region = studio["model"].replace("us-east-1", "eu-west-1")
    answer = call_checked(
        studio["tagging"],
        "tag_resources",
        ResourceARNList=[unknown, studio["space"], other_region, studio["model"]],
        Tags={"team": "a"},
    )
    assert set(answer["FailedResourcesMap"]) == {unknown, other_region}
    assert answer["FailedResourcesMap"][unknown]["ErrorCode"] == "InvalidParameterException"
    assert (
        tags_of(studio["sm"], studio["space"])["team"] == "a" and tags_of(studio["sm"], studio["model"])["team"] == "a"
    )


def test_a_throttled_arn_fails_on_its_own_and_a_retry_of_it_succeeds(studio: dict[str, Any]) -> None:
    faults.registry.add(service="sagemaker", kind="throttle", operation="AddTags", count=1)
    answer = call_checked(
        studio["tagging"], "tag_resources", ResourceARNList=[studio["space"], studio["app"]], Tags={"team": "a"}
    )
    failure = answer["FailedResourcesMap"][studio["space"]]
    assert list(answer["FailedResourcesMap"]) == [studio["space"]]
    assert failure["ErrorCode"] == "InternalServiceException" and "Throttling" in failure["ErrorMessage"]
    assert "team" not in tags_of(studio["sm"], studio["space"]) and tags_of(studio["sm"], studio["app"])["team"] == "a"
    retry = studio["tagging"].tag_resources(ResourceARNList=[studio["space"]], Tags={"team": "a"})
    assert retry["FailedResourcesMap"] == {} and tags_of(studio["sm"], studio["space"])["team"] == "a"


def test_a_resource_never_holds_more_than_50_tags(studio: dict[str, Any]) -> None:
    tagging = studio["tagging"]
    first = {f"k{n}": "v" for n in range(45)}
    assert tagging.tag_resources(ResourceARNList=[studio["space"]], Tags=first)["FailedResourcesMap"] == {}
    before = tags_of(studio["sm"], studio["space"])
    answer = tagging.tag_resources(
        ResourceARNList=[studio["space"], studio["model"]], Tags={f"x{n}": "v" for n in range(10)}
    )
    assert list(answer["FailedResourcesMap"]) == [studio["space"]]
    assert tags_of(studio["sm"], studio["space"]) == before  # not half-applied
    assert "x9" in tags_of(studio["sm"], studio["model"])


# -- Search -------------------------------------------------------------------------------------------------------
@pytest.fixture
def experiments(studio: dict[str, Any]) -> dict[str, Any]:
    sm = studio["sm"]
    for name in ("tagged-exp", "plain-exp", "studio-exp"):
        sm.create_experiment(ExperimentName=name)
    arns = {name: sm.describe_experiment(ExperimentName=name)["ExperimentArn"] for name in ("tagged-exp", "studio-exp")}
    sm.add_tags(ResourceArn=arns["tagged-exp"], Tags=[{"Key": "sagemaker:domain-arn", "Value": studio["domain"]}])
    set_created_by(DEFAULT_ACCOUNT, "us-east-1", arns["studio-exp"], studio["domain_id"], "maria")
    return studio


def names(answer: dict[str, Any]) -> list[str]:
    return sorted(r["Experiment"]["ExperimentName"] for r in answer["Results"])


def test_search_serves_tag_exists_and_not_exists(experiments: dict[str, Any]) -> None:
    sm = experiments["sm"]

    def search(operator: str) -> list[str]:
        expression = {"Filters": [{"Name": "Tags.sagemaker:domain-arn", "Operator": operator}]}
        return names(call_checked(sm, "search", Resource="Experiment", SearchExpression=expression))

    assert search("Exists") == ["tagged-exp"]
    assert search("NotExists") == ["plain-exp", "studio-exp"]
    equals = {"Filters": [{"Name": "Tags.sagemaker:domain-arn", "Operator": "Equals", "Value": experiments["domain"]}]}
    assert names(sm.search(Resource="Experiment", SearchExpression=equals)) == ["tagged-exp"]


def test_search_answers_created_by_and_filters_on_it(experiments: dict[str, Any]) -> None:
    sm = experiments["sm"]
    expression = {"Filters": [{"Name": "CreatedBy.DomainId", "Operator": "Equals", "Value": experiments["domain_id"]}]}
    answer = call_checked(sm, "search", Resource="Experiment", SearchExpression=expression)
    assert names(answer) == ["studio-exp"]
    assert answer["Results"][0]["Experiment"]["CreatedBy"] == {
        "UserProfileArn": experiments["profile"],
        "UserProfileName": "maria",
        "DomainId": experiments["domain_id"],
    }
    either = {
        "Operator": "Or",
        "Filters": [
            {"Name": "CreatedBy.DomainId", "Operator": "Exists"},
            {"Name": "Tags.sagemaker:domain-arn", "Operator": "Exists"},
        ],
    }
    assert names(sm.search(Resource="Experiment", SearchExpression=either)) == ["studio-exp", "tagged-exp"]


def test_search_pages_and_refuses_bad_expressions(experiments: dict[str, Any]) -> None:
    sm = experiments["sm"]
    first = call_checked(sm, "search", Resource="Experiment", MaxResults=2)
    second = call_checked(sm, "search", Resource="Experiment", MaxResults=2, NextToken=first["NextToken"])
    assert "NextToken" not in second
    assert len(names(first) + names(second)) == 3 and set(names(first)).isdisjoint(names(second))
    for expression in (
        {"Filters": [{"Name": "Tags.team", "Operator": "Equals"}]},  # no Value
        {"Filters": [{"Name": "NoSuchProperty", "Operator": "Exists"}]},
    ):
        with pytest.raises(ClientError) as exc:
            sm.search(Resource="Experiment", SearchExpression=expression)
        assert code(exc) == "ValidationException"


def test_search_sorts_by_creation_time(experiments: dict[str, Any]) -> None:
    sm = experiments["sm"]

    def order(sort_order: str) -> list[str]:
        answer = call_checked(sm, "search", Resource="Experiment", SortBy="CreationTime", SortOrder=sort_order)
        return [r["Experiment"]["ExperimentName"] for r in answer["Results"]]

    assert order("Ascending") == ["tagged-exp", "plain-exp", "studio-exp"]
    assert order("Descending") == ["studio-exp", "plain-exp", "tagged-exp"]


def test_untag_resources_checks_its_limits_and_fails_a_throttled_arn_alone(studio: dict[str, Any]) -> None:
    tagging = studio["tagging"]
    with pytest.raises(ClientError) as exc:
        tagging.untag_resources(ResourceARNList=[studio["space"]], TagKeys=[f"k{n}" for n in range(51)])
    assert code(exc) == "InvalidParameterException"
    faults.registry.add(service="sagemaker", kind="throttle", operation="DeleteTags", count=1)
    answer = call_checked(
        tagging, "untag_resources", ResourceARNList=[studio["space"], studio["profile"]], TagKeys=["owner"]
    )
    assert list(answer["FailedResourcesMap"]) == [studio["space"]]
    assert "owner" in tags_of(studio["sm"], studio["space"]) and "owner" not in tags_of(studio["sm"], studio["profile"])


def test_get_resources_checks_its_page_sizes(studio: dict[str, Any]) -> None:
    for params in ({"ResourcesPerPage": 101}, {"TagsPerPage": 99}, {"TagsPerPage": 501}):
        with pytest.raises(ClientError) as exc:
            studio["tagging"].get_resources(**params)
        assert code(exc) == "InvalidParameterException", params
