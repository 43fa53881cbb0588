"""What of a role a person may see: the role itself (platform admins, and the approvers of a domain it serves),
and of what it serves, only the domains they manage."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from governance.models import Finding
from iamaccess import checks
from iamaccess.models import ExecutionRole, RoleUse
from portal.scoping import MANAGE, SYNC, domain_q, grants_for


def roles_for(user: Any) -> QuerySet:
    return ExecutionRole.objects.restrict(user, "view").select_related("account")


def visible_uses(user: Any, role: ExecutionRole) -> QuerySet:
    """What the role serves, in the domains this person manages."""
    domains = grants_for(user).domains_for(MANAGE)
    return (
        RoleUse.objects.filter(role=role)
        .filter(domain_q(domains, "domain__arn"))
        .select_related("domain", "profile", "space")
        .order_by("domain__name", "kind", "profile__name", "space__name", "pk")
    )


def visible_domains(user: Any, role: ExecutionRole) -> list[Any]:
    from domains.models import Domain

    domains = grants_for(user).domains_for(MANAGE)
    return list(
        Domain.objects.filter(pk__in=RoleUse.objects.filter(role=role).values("domain_id"))
        .filter(domain_q(domains, "arn"))
        .order_by("name")
    )


def probe_results(role: ExecutionRole, domain_ids: set[str]) -> list[dict[str, Any]]:
    """The role's stored probe answers for these domains, what leaks first."""
    order = {"allowed": 0, "conditional": 1, "explicitDeny": 2, "implicitDeny": 3}
    results = [r for r in (role.evaluation.results if role.evaluation else []) if r["domain_id"] in domain_ids]
    return sorted(results, key=lambda r: (r["domain_id"], order.get(r["outcome"], 9), r["subject"], r["action"]))


def role_findings(user: Any, role: ExecutionRole, domains: list[Any]) -> list[Finding]:
    """The open IAM findings that name this role: its profiles' SE-06/SE-07, its domains' SE-05/SE-08/TG-01."""
    ids = [c.id for c in checks.CHECKS]
    profile_arns = RoleUse.objects.filter(role=role, kind=RoleUse.Kind.PROFILE).values("profile__arn")
    rows = (
        Finding.objects.restrict(user, "view")
        .filter(check_id__in=ids, domain__in=domains, status__in=[Finding.Status.OPEN, Finding.Status.ACCEPTED])
        .filter(Q(resource_arn__in=profile_arns) | Q(resource_kind="domain"))
        .select_related("domain")
        .order_by("check_id", "resource_name")
    )
    markers = (f"as {role.name}'", f"'role {role.name}'")
    return [f for f in rows if any(m in str(f.evidence) for m in markers)]


def may_review(user: Any, domain: Any = None) -> bool:
    grants = grants_for(user)
    if domain is None:
        return grants.is_admin
    return grants.allows(SYNC, domain.arn)


RANK = {"allowed": 0, "conditional": 1, "explicitDeny": 2, "implicitDeny": 3}


def _short(policy: str) -> str:
    return policy.rsplit("/", 1)[-1]


def probe_groups(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The probe answers grouped by domain and what was probed (an app type, a tool...): the worst outcome first,
    each action with its own outcome, the statements that decided (policy / Sid, conditions apart) and what IAM
    missed."""
    from iamaccess.probes import OUTCOME_LABELS

    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for result in results:
        key = (result["domain_id"], result["subject"])
        group = groups.setdefault(
            key,
            {
                "domain_id": result["domain_id"],
                "label": result["label"],
                "actions": [],
                "statements": [],
                "missing": [],
            },
        )
        group["actions"].append(
            {
                "action": result["action"],
                "resource": result["resource"],
                "outcome": result["outcome"],
                "outcome_label": OUTCOME_LABELS.get(result["outcome"], result["outcome"]),
            }
        )
        for matched in result.get("matched") or []:
            sid, _, conditions = (matched.get("statement") or "").partition(" (with conditions ")
            text = _short(matched["policy"]) + (f" / {sid}" if sid else "")
            entry = {"text": text, "conditions": conditions.rstrip(")")}
            if entry not in group["statements"]:
                group["statements"].append(entry)
        group["missing"] = sorted(set(group["missing"]) | set(result.get("missing") or []))
    found = []
    for group in groups.values():
        group["outcome"] = min((a["outcome"] for a in group["actions"]), key=lambda o: RANK.get(o, 9))
        group["outcome_label"] = OUTCOME_LABELS.get(group["outcome"], group["outcome"])
        found.append(group)
    return sorted(found, key=lambda g: (g["domain_id"], RANK.get(g["outcome"], 9), g["label"]))
