"""The domain-isolation rollout, after the tag backfill: what the isolation policy (GOVERNANCE.md section 6 (a),
from :mod:`iamaccess.generator`) would lock out of a domain if its execution roles enforced it now, and, once the
domain's tag coverage is complete, the offer of that policy for each of the domain's execution roles.

The lock-out is asked of IAM, not guessed: ``SimulateCustomPolicy`` with the generated document as the only
identity policy, for the resources the policy would govern that lack the domain's tag (the domain's untagged and
excepted resources, and the unattributed ones of its account and region), their ARNs as ``ResourceArns``. One call
(and its pages) per resource type, per set of tag values the policy's conditions read (ContextEntries apply to the
whole call, so resources are grouped by the ``aws:ResourceTag/...`` values they would give), and per 100 ARNs. The
answer is kept for ten minutes under a fingerprint of the document and of those resources with their tags, so
reloading the page does not ask IAM again while nothing changed.

It lives here, above the backfill (iamaccess is the layer above it): the backfill's domain coverage page shows it
as a panel registered in :mod:`portal.registry`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.core.cache import cache
from django.db.models import QuerySet

from backfill import coverage as backfill_coverage
from backfill.models import LegacyResource
from domains.models import Domain
from iamaccess import generator, reader, simulate
from iamaccess.models import ExecutionRole, RoleUse
from portal.aws import call_with_retries

ARNS_PER_CALL = 100  # ResourceArns per SimulateCustomPolicy call: a page of answers stays under MaxItems
CACHE_SECONDS = 600
ALLOWED = "allowed"
# What a person does with each type of legacy resource, among the actions the isolation policy governs
# (Describe*, Update*, Delete*, Stop*): IAM is asked about each.
ACTIONS: dict[str, tuple[str, ...]] = {
    "training-job": ("sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"),
    "processing-job": ("sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob"),
    "model": ("sagemaker:DescribeModel", "sagemaker:DeleteModel"),
    "endpoint-config": ("sagemaker:DescribeEndpointConfig", "sagemaker:DeleteEndpointConfig"),
    "endpoint": ("sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpoint", "sagemaker:DeleteEndpoint"),
    "experiment": ("sagemaker:DescribeExperiment", "sagemaker:UpdateExperiment", "sagemaker:DeleteExperiment"),
    "experiment-trial": ("sagemaker:DescribeTrial", "sagemaker:UpdateTrial", "sagemaker:DeleteTrial"),
    "pipeline": ("sagemaker:DescribePipeline", "sagemaker:UpdatePipeline", "sagemaker:DeletePipeline"),
}
RESOURCE_TAG_KEY = re.compile(r"^aws:ResourceTag/(.+)$", re.IGNORECASE)


def actions_for(resource_type: str) -> tuple[str, ...]:
    """The actions asked for a type; for a type not listed, its Describe (``some-thing`` -> DescribeSomeThing)."""
    known = ACTIONS.get(resource_type)
    if known:
        return known
    return ("sagemaker:Describe" + "".join(part.title() for part in resource_type.split("-")),)


def params_for(domain: Domain) -> generator.Params:
    return generator.Params(
        domain_arn=domain.arn,
        domain_id=domain.domain_id,
        account_id=domain.account.account_id,
        region=domain.region,
        new_studio=domain.studio_experience != Domain.StudioExperience.CLASSIC,
    )


def isolation_policy(domain: Domain) -> dict[str, Any]:
    return generator.generate("isolation", params_for(domain))


def resource_tag_keys(document: dict[str, Any]) -> list[str]:
    """The tag keys the policy's conditions read as ``aws:ResourceTag/<key>``: the context a resource gives."""
    keys = set()
    for statement in document.get("Statement") or []:
        for block in (statement.get("Condition") or {}).values():
            for key in block:
                match = RESOURCE_TAG_KEY.match(key)
                if match:
                    keys.add(match.group(1))
    return sorted(keys)


def _context(tags: dict[str, str], keys: list[str]) -> tuple[tuple[str, str], ...]:
    return tuple((f"aws:ResourceTag/{key}", tags[key]) for key in keys if key in (tags or {}))


@dataclass
class Lockout:
    """IAM's answer: every resource the policy would deny (with the actions denied); how many of each type were
    asked about; the calls it took."""

    asked: dict[str, int]
    denied: list[dict[str, Any]]
    calls: int

    @property
    def asked_total(self) -> int:
        return sum(self.asked.values())

    @property
    def by_type(self) -> list[dict[str, Any]]:
        denied = Counter(r["type"] for r in self.denied)
        actions: dict[str, set[str]] = defaultdict(set)
        for r in self.denied:
            actions[r["type"]].update(r["actions"])
        return [
            {"type": kind, "asked": n, "denied": denied[kind], "actions": sorted(actions[kind])}
            for kind, n in sorted(self.asked.items())
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "asked": self.asked_total,
            "denied": len(self.denied),
            "calls": self.calls,
            "by_type": self.by_type,
        }


def _fingerprint(document: dict[str, Any], rows: list[tuple[Any, ...]]) -> str:
    digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode())
    for row in rows:
        digest.update(json.dumps(row, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def at_risk(domain: Domain) -> QuerySet:
    return backfill_coverage.untagged_near(domain).order_by("resource_type", "name", "pk")


def simulate_lockout(domain: Domain, *, client: Any = None, use_cache: bool = True) -> Lockout:
    """Ask IAM what the domain's isolation policy would deny among the resources without its tag (see the module)."""
    document = isolation_policy(domain)
    keys = resource_tag_keys(document)
    rows = list(at_risk(domain).values_list("pk", "arn", "resource_type", "name", "coverage", "tags"))
    cache_key = f"iamaccess:lockout:{domain.pk}:{_fingerprint(document, rows)}"
    if use_cache:
        known = cache.get(cache_key)
        if known is not None:
            return Lockout(**known)
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        groups[(row[2], _context(row[5], keys))].append(row)
    if groups and client is None:
        client = reader.iam_client(domain.account.access)
    policy_text = json.dumps(document)
    denied: list[dict[str, Any]] = []
    calls = 0
    for (kind, context), members in sorted(groups.items()):
        actions = list(actions_for(kind))
        for start in range(0, len(members), ARNS_PER_CALL):
            batch = members[start : start + ARNS_PER_CALL]
            params: dict[str, Any] = {
                "PolicyInputList": [policy_text],
                "ActionNames": actions,
                "ResourceArns": [row[1] for row in batch],
                "MaxItems": simulate.MAX_ITEMS,
            }
            if context:
                params["ContextEntries"] = simulate._context_entries({k: [v] for k, v in context})
            refused: dict[str, set[str]] = defaultdict(set)
            marker = None
            while True:
                if marker:
                    params["Marker"] = marker
                answer = call_with_retries(client.simulate_custom_policy, **params)
                calls += 1
                for result in answer.get("EvaluationResults", []):
                    for item in simulate._flatten(result):
                        if item["decision"] != ALLOWED:
                            refused[item["resource"]].add(item["action"])
                if not answer.get("IsTruncated"):
                    break
                marker = answer["Marker"]
            for pk, arn, _, name, coverage, _tags in batch:
                if arn in refused or "*" in refused:
                    actions_denied = refused.get(arn, set()) | refused.get("*", set())
                    denied.append(
                        {
                            "pk": pk,
                            "arn": arn,
                            "type": kind,
                            "name": name,
                            "coverage": coverage,
                            "coverage_label": LegacyResource.Coverage(coverage).label,
                            "actions": sorted(actions_denied),
                        }
                    )
    found = Lockout(asked=dict(Counter(row[2] for row in rows)), denied=denied, calls=calls)
    cache.set(cache_key, {"asked": found.asked, "denied": found.denied, "calls": found.calls}, CACHE_SECONDS)
    return found


def execution_roles(domain: Domain) -> list[ExecutionRole]:
    """The roles acting in the domain (read by the IAM review): those the isolation policy is for."""
    return list(
        ExecutionRole.objects.filter(pk__in=RoleUse.objects.filter(domain=domain).values("role_id"))
        .select_related("account")
        .order_by("name")
    )


def rollout_context(domain: Domain, *, sample: int | None = None) -> dict[str, Any]:
    """What the panel and the rollout page show: coverage, the lock-out (or why IAM could not be asked), the
    execution roles, and the policy once coverage is complete."""
    found = backfill_coverage.domain_coverage(domain)
    lockout, error = None, ""
    try:
        lockout = simulate_lockout(domain)
    except (ClientError, BotoCoreError) as exc:
        error = f"IAM's policy simulator did not answer: {exc}"
    context: dict[str, Any] = {
        "domain": domain,
        "found": found,
        "lockout": lockout,
        "lockout_error": error,
        "roles": execution_roles(domain),
        "policy": None,
    }
    if lockout is not None and sample is not None:
        context["sample"] = lockout.denied[:sample]
    if found.complete:
        document = isolation_policy(domain)
        context["policy"] = {
            "text": json.dumps(document, indent=2),
            "validation": generator.validate(document, params_for(domain)),
            "name": generator.policy_name("isolation", params_for(domain)),
        }
    return context
