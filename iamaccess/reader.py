"""Reading execution roles from IAM: ``GetAccountAuthorizationDetails`` (paginated, roles and the account's own
managed policies with their versions: one call a page for a whole account, rather than five calls a role), and
``GetPolicy`` / ``GetPolicyVersion`` for the AWS managed policies attached (their documents are kept and asked for
again only when their default version moves)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from django.conf import settings

from portal.aws import AccountAccess, call_with_retries, gateway

AWS_MANAGED_PREFIX = "arn:aws:iam::aws:policy/"
PAGE_SIZE = 1000  # GetAccountAuthorizationDetails MaxItems: 1-1000


def iam_client(access: AccountAccess) -> Any:
    return gateway().client("iam", region=settings.AWS_DEFAULT_REGION, account=access)


def document(value: Any) -> Any:
    """A policy document as IAM answers it: botocore decodes it to a dict; a URL-encoded string is decoded here."""
    if isinstance(value, str):
        text = unquote(value) if value.lstrip().startswith("%7B") else value
        return json.loads(text)
    return value


def policy_hash(policies: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(policies, sort_keys=True).encode()).hexdigest()


def role_name_of(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def read_account(
    access: AccountAccess, role_arns: Iterable[str], known_managed: dict[str, dict[str, Any]] | None = None
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The named roles of one account: ``{arn: {"name", "path", "role_id", "policies"}}`` and the ARNs that IAM
    does not have. ``known_managed`` maps an AWS managed policy's ARN to what was read before (``version``,
    ``document``), so that an unchanged one costs one GetPolicy and no GetPolicyVersion."""
    wanted = {arn.lower(): arn for arn in role_arns}
    by_name = {role_name_of(arn): arn for arn in wanted.values()}
    client = iam_client(access)
    roles: list[dict[str, Any]] = []
    local: dict[str, dict[str, Any]] = {}
    paginator = client.get_paginator("get_account_authorization_details")
    for page in call_with_retries(
        lambda: list(
            paginator.paginate(Filter=["Role", "LocalManagedPolicy"], PaginationConfig={"PageSize": PAGE_SIZE})
        )
    ):
        roles += page.get("RoleDetailList", [])
        for policy in page.get("Policies", []):
            default = next(
                (v for v in policy.get("PolicyVersionList", []) if v.get("IsDefaultVersion")),
                None,
            )
            local[policy["Arn"]] = {
                "arn": policy["Arn"],
                "name": policy.get("PolicyName") or policy["Arn"].rsplit("/", 1)[-1],
                "version": policy.get("DefaultVersionId", ""),
                "document": document(default["Document"]) if default else None,
                "aws_managed": False,
            }
    aws_managed = dict(known_managed or {})
    fresh: dict[str, dict[str, Any]] = {}

    def managed(arn: str, name: str) -> dict[str, Any]:
        if arn in local:
            return local[arn]
        if arn in fresh:
            return fresh[arn]
        answer = call_with_retries(client.get_policy, PolicyArn=arn)["Policy"]
        version = answer.get("DefaultVersionId", "")
        known = aws_managed.get(arn)
        if known and known.get("version") == version and known.get("document") is not None:
            doc = known["document"]
        else:
            doc = document(
                call_with_retries(client.get_policy_version, PolicyArn=arn, VersionId=version)["PolicyVersion"][
                    "Document"
                ]
            )
        fresh[arn] = {"arn": arn, "name": name, "version": version, "document": doc, "aws_managed": True}
        return fresh[arn]

    found: dict[str, dict[str, Any]] = {}
    for role in roles:
        arn = wanted.get(role["Arn"].lower()) or by_name.get(role["RoleName"])
        if arn is None:
            continue
        inline = sorted(
            (
                {"name": p["PolicyName"], "document": document(p["PolicyDocument"])}
                for p in role.get("RolePolicyList", [])
            ),
            key=lambda p: p["name"],
        )
        attached = sorted(
            (managed(p["PolicyArn"], p["PolicyName"]) for p in role.get("AttachedManagedPolicies", [])),
            key=lambda p: p["arn"],
        )
        boundary = None
        boundary_arn = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if boundary_arn:
            boundary = managed(boundary_arn, boundary_arn.rsplit("/", 1)[-1])
        found[arn] = {
            "name": role["RoleName"],
            "path": role.get("Path", "/"),
            "role_id": role.get("RoleId", ""),
            "policies": {"inline": inline, "attached": attached, "boundary": boundary},
        }
    missing = sorted(arn for arn in wanted.values() if arn not in found)
    return found, missing
