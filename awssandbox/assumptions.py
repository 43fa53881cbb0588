"""Every behaviour the sandbox chose where AWS's documentation is silent, in one list, with the page behind it.

Each entry names the constant (or module) that holds the choice, so the list cannot drift from the code unnoticed (a
test resolves every ``where`` and checks that every module marking something ASSUMED has an entry here), and the
docs.aws.amazon.com page that was read before choosing. Correct a choice where ``where`` points, then here.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

_SM_API = "https://docs.aws.amazon.com/sagemaker/latest/APIReference"
_IAM_GUIDE = "https://docs.aws.amazon.com/IAM/latest/UserGuide"
_IAM_API = "https://docs.aws.amazon.com/IAM/latest/APIReference"
_CE_API = "https://docs.aws.amazon.com/aws-cost-management/latest/APIReference"
_TAGGING_API = "https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference"


@dataclass(frozen=True)
class Assumption:
    where: str  # dotted path of the constant (or module) that holds the choice
    behaviour: str
    url: str  # the documentation page read before choosing

    def target(self) -> Any:
        """The object ``where`` names (ImportError or AttributeError when it no longer exists)."""
        module, _, attribute = self.where.partition(":")
        found: Any = import_module(module)
        for part in filter(None, attribute.split(".")):
            found = getattr(found, part)
        return found


ASSUMED: list[Assumption] = [
    # -- Studio lifecycles and listings
    Assumption(
        "awssandbox.clock:DEMO_SECONDS",
        "How long Studio lifecycles take in the demo (a few seconds each; AWS publishes no durations, app deletion "
        "is reported to take up to 20 minutes); the suite uses 0 (instant) unless a test sets them.",
        f"{_SM_API}/API_DeleteApp.html",
    ),
    Assumption(
        "awssandbox.clock:DELETED_APP_VISIBLE_SECONDS",
        "A Deleted app is still listed and described for an hour of sandbox time, then forgotten.",
        f"{_SM_API}/API_ListApps.html",
    ),
    Assumption(
        "awssandbox.studio.state:PROFILE_DELETE_NEEDS_NO_APPS",
        "DeleteUserProfile answers ResourceInUse while the profile has apps that are not Deleted, or spaces.",
        f"{_SM_API}/API_DeleteUserProfile.html",
    ),
    Assumption(
        "awssandbox.studio.state:LIFECYCLE_RULES",
        "CreateApp on a space or profile that is not InService answers ResourceInUse (CreateApp names no code for it).",
        f"{_SM_API}/API_CreateApp.html",
    ),
    Assumption(
        "awssandbox.studio.state:LIFECYCLE_RULES",
        "A second delete of a resource that is already Deleting is accepted and changes nothing.",
        f"{_SM_API}/API_DeleteApp.html",
    ),
    Assumption(
        "awssandbox.studio.state:StudioState.pending_describes",
        "With pending_describes set, a new resource answers Pending to that many Describe calls before InService.",
        f"{_SM_API}/API_DescribeUserProfile.html",
    ),
    Assumption(
        "awssandbox.studio.wire:DEFAULT_SORT_ORDER",
        "ListDomains, which takes no SortBy/SortOrder, lists ascending by CreationTime like the other Studio lists.",
        f"{_SM_API}/API_ListDomains.html",
    ),
    Assumption(
        "awssandbox.studio.wire:HEALTH_CHECK_SECONDS",
        "A running app's LastHealthCheckTimestamp moves every 5 minutes.",
        f"{_SM_API}/API_DescribeApp.html",
    ),
    Assumption(
        "awssandbox.studio.wire:NAME_CONTAINS_CASE_SENSITIVE",
        "ListUserProfiles' UserProfileNameContains matches without regard to case (profile names are not case "
        "sensitive; the filter is documented only as 'A parameter by which to filter the results').",
        f"{_SM_API}/API_ListUserProfiles.html",
    ),
    Assumption(
        "awssandbox.studio.wire:NAME_CONTAINS_CASE_SENSITIVE",
        "ListSpaces' SpaceNameContains matches without regard to case (as UserProfileNameContains).",
        f"{_SM_API}/API_ListSpaces.html",
    ),
    Assumption(
        "awssandbox.studio.validation:SPACE_IDLE_MEMBERS",
        "A space's idle settings that carry a member SpaceIdleSettings lacks (such as LifecycleManagement) answer "
        "ValidationException.",
        f"{_SM_API}/API_SpaceIdleSettings.html",
    ),
    Assumption(
        "awssandbox.network:HOME_EFS",
        "A domain's home EFS file system is tagged ManagedByAmazonSageMakerResource=<domain ARN>, its creation token "
        "is the domain id, and it is General Purpose, bursting and encrypted.",
        f"{_SM_API}/API_DescribeDomain.html",
    ),
    Assumption(
        "awssandbox.network:NETWORK_MESSAGES",
        "CreateDomain and UpdateDomain answer ValidationException, naming the member and the id, for a VPC, subnet "
        "or security group that does not exist in the account and Region or is not in the domain's VPC.",
        f"{_SM_API}/API_CreateDomain.html",
    ),
    Assumption(
        "awssandbox.studiopage:REFUSALS",
        "A used, expired or unknown presigned Studio URL token gets a 403 page saying which.",
        f"{_SM_API}/API_CreatePresignedDomainUrl.html",
    ),
    # -- rate limits
    Assumption(
        "awssandbox.limits:DEFAULT_LIMITS",
        "SageMaker token buckets: read 20/s (burst 40), write 5/s (10), CreatePresignedDomainUrl 2/s (5); AWS "
        "publishes no per-operation rates for the SageMaker control plane.",
        "https://docs.aws.amazon.com/general/latest/gr/sagemaker.html",
    ),
    Assumption(
        "awssandbox.limits:DEFAULT_LIMITS",
        "Cost Explorer token buckets: read 5/s (burst 10), write 1/s (2); AWS says only that requests are throttled.",
        "https://docs.aws.amazon.com/cost-management/latest/userguide/ce-api-best-practices.html",
    ),
    # -- Cost Explorer
    Assumption(
        "awssandbox.ce:CostState",
        "A page holds at most page_size rows (one period and group each); a page's periods follow each other.",
        f"{_CE_API}/API_GetCostAndUsage.html",
    ),
    Assumption(
        "awssandbox.ce",
        "Estimated is true for periods that reach into the current month; amortized, blended and net costs equal "
        "the unblended cost (the demo has no reservations or credits).",
        f"{_CE_API}/API_ResultByTime.html",
    ),
    Assumption(
        "awssandbox.ce",
        "An activated cost allocation tag applies to spend from the day it is activated (AWS: up to 24 hours).",
        "https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/activating-tags.html",
    ),
    Assumption(
        "awssandbox.ce:BACKFILL_MONTHS",
        "StartCostAllocationTagBackfill completes at once (AWS reports PROCESSING for a while).",
        f"{_CE_API}/API_StartCostAllocationTagBackfill.html",
    ),
    Assumption(
        "awssandbox.ce:FORECAST_HORIZON_MONTHS",
        "GetCostForecast's horizons (3 months DAILY, 18 months MONTHLY) are counted in calendar months from today.",
        f"{_CE_API}/API_GetCostForecast.html",
    ),
    # -- IAM
    Assumption(
        "awssandbox.iampolicy:ASSUMED",
        "A single-valued operator on a multivalued key: a positive one matches when any value matches, a negated "
        "one when no value matches.",
        f"{_IAM_GUIDE}/reference_policies_condition-single-vs-multi-valued-context-keys.html",
    ),
    Assumption(
        "awssandbox.iampolicy:ASSUMED",
        "A policy variable whose key is missing makes the element that uses it not match; the key is reported in "
        "MissingContextValues.",
        f"{_IAM_GUIDE}/reference_policies_variables.html",
    ),
    Assumption(
        "awssandbox.iampolicy:ASSUMED",
        "MissingContextValues lists the keys of conditions and variables in statements whose Action and Resource "
        "matched.",
        f"{_IAM_API}/API_SimulatePrincipalPolicy.html",
    ),
    Assumption(
        "awssandbox.iampolicy:ASSUMED",
        "Several ResourceArns give one EvaluationResult per action and resource, without ResourceSpecificResults.",
        f"{_IAM_API}/API_EvaluationResult.html",
    ),
    Assumption(
        "awssandbox.iampolicy:ASSUMED",
        "MatchedStatements carry SourcePolicyId and SourcePolicyType only (no StartPosition/EndPosition).",
        f"{_IAM_API}/API_Statement.html",
    ),
    Assumption(
        "awssandbox.iam:PRINCIPAL_KEYS",
        "SimulatePrincipalPolicy fills aws:PrincipalArn and aws:PrincipalAccount from the principal when the caller "
        "does not pass them, as the policy simulator console does.",
        f"{_IAM_API}/API_SimulatePrincipalPolicy.html",
    ),
    # -- Identity Center and tagging
    Assumption(
        "awssandbox.identity:IDENTITY_CENTER_REGION",
        "The organisation's Identity Center instance is in the payer (management) account, in us-east-1.",
        "https://docs.aws.amazon.com/singlesignon/latest/userguide/identity-center-prerequisites.html",
    ),
    Assumption(
        "awssandbox.tagging:DEFAULT_RESOURCES_PER_PAGE",
        "GetResources returns 100 resources a page unless ResourcesPerPage says otherwise.",
        f"{_TAGGING_API}/API_GetResources.html",
    ),
    Assumption(
        "awssandbox.tagging:FAILURES",
        "One failed ARN in FailedResourcesMap: a throttled or failed call is InternalServiceException (400 or 500), "
        "an unknown ARN, one in another account or Region or over the tag limit InvalidParameterException.",
        f"{_TAGGING_API}/API_FailureInfo.html",
    ),
    # -- Legacy SageMaker resources
    Assumption(
        "awssandbox.legacy",
        "DescribeExperiment, DescribeTrial and DescribePipeline answer no CreatedBy for a resource not created from "
        "Studio (the reference does not say what such a resource answers).",
        f"{_SM_API}/API_DescribePipeline.html",
    ),
    Assumption(
        "awssandbox.legacy:LIST_MODELS_DEFAULT_MAX_RESULTS",
        "ListModels returns 10 models a page unless MaxResults says otherwise (the reference gives 1-100, no default).",
        f"{_SM_API}/API_ListModels.html",
    ),
]


def as_markdown() -> str:
    """The list as markdown bullets: behaviour — page."""
    return "\n".join(f"- {a.behaviour} — {a.url} (`{a.where}`)" for a in ASSUMED)
