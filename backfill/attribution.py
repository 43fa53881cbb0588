"""Attribution: which domain each legacy resource belongs to, by the first rule that decides (GOVERNANCE.md
section 5), with the evidence kept. What no rule decides stays unattributed, with why; nothing is guessed.

The rules, in order:

1. ``domain-tag``: the resource already carries ``sagemaker:domain-arn`` (it needs no backfill);
2. ``created-by``: ``CreatedBy.DomainId`` names a domain of the resource's account and region;
3. ``profile-tag``: a ``sagemaker:user-profile-arn`` or ``sagemaker:space-arn`` tag names such a domain;
4. ``execution-role``: the resource's role is the execution role of exactly one domain (its default user or space
   settings, or one of its live profiles), from the inventory;
5. ``lineage``: what the resource was made from (a model's training job, an endpoint config's model, an
   endpoint's config) is attributed, by any rule;
6. an admin's ``name-prefix`` rule, then 7. an admin's ``s3-prefix`` rule, on the resource's S3 inputs and
   outputs; the longest matching prefix decides, and two rules of different domains with that prefix decide
   nothing.

A domain is only ever one of the resource's own account and region: SageMaker resources do not cross them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from backfill.models import DOMAIN_TAG, PROFILE_TAG, SPACE_TAG, AttributionRule, LegacyResource
from domains.models import Domain
from profiles.models import UserProfile

Rule = LegacyResource.Rule


@dataclass
class Decision:
    domain_arn: str = ""
    rule: str = ""
    evidence: list[dict[str, Any]] = field(default_factory=list)
    why: str = ""
    attribution_rule: AttributionRule | None = None


def _ev(field_name: str, value: Any, source: str) -> dict[str, Any]:
    return {"field": field_name, "value": value, "source": source}


@dataclass
class Context:
    """What attribution reads besides the resources: the inventory's domains, who uses which role, the rules."""

    domains: dict[str, Domain]  # ARN -> live domain
    by_id: dict[tuple[str, str, str], Domain]  # (account, region, domain id) -> domain
    role_users: dict[str, set[str]]  # execution role ARN -> ARNs of the domains that use it
    rules: list[AttributionRule]

    @classmethod
    def load(cls, rules: Iterable[AttributionRule] | None = None) -> Context:
        """From the inventory (three queries) and the stored rules (one), or the ``rules`` given (a preview)."""
        domains = {d.arn: d for d in Domain.objects.filter(removed_at__isnull=True).select_related("account")}
        by_id = {(d.account.account_id, d.region, d.domain_id): d for d in domains.values()}
        role_users: dict[str, set[str]] = defaultdict(set)
        for domain in domains.values():
            snapshot = domain.settings_snapshot or {}
            for role in (
                domain.default_execution_role,
                (snapshot.get("DefaultUserSettings") or {}).get("ExecutionRole"),
                (snapshot.get("DefaultSpaceSettings") or {}).get("ExecutionRole"),
            ):
                if role:
                    role_users[role].add(domain.arn)
        profiles = UserProfile.objects.filter(removed_at__isnull=True, domain__removed_at__isnull=True)
        for role, arn in profiles.exclude(execution_role="").values_list("execution_role", "domain__arn"):
            role_users[role].add(arn)
        if rules is None:
            rules = AttributionRule.objects.select_related("domain", "domain__account")
        return cls(domains, by_id, dict(role_users), list(rules))

    def here(self, resource: LegacyResource, arn: str | None) -> Domain | None:
        domain = self.domains.get(arn or "")
        if domain and (domain.account.account_id, domain.region) == (resource.account_id, resource.region):
            return domain
        return None


def _domain_id_in(arn: str) -> str:
    """The domain id in a user profile or space ARN (``...:user-profile/d-xxx/name``)."""
    parts = arn.split(":", 5)
    return parts[5].split("/")[1] if len(parts) == 6 and parts[5].count("/") >= 2 else ""


class Attributor:
    """Decides every resource of a set, following lineage through the others (memoised, cycle-safe)."""

    def __init__(self, resources: Iterable[LegacyResource], context: Context) -> None:
        self.by_arn = {r.arn: r for r in resources}
        self.context = context
        self.decided: dict[str, Decision] = {}
        self._busy: set[str] = set()

    def decide(self, resource: LegacyResource) -> Decision:
        known = self.decided.get(resource.arn)
        if known is not None:
            return known
        if resource.arn in self._busy:  # a lineage cycle decides nothing
            return Decision(why="Lineage leads back to this resource.")
        self._busy.add(resource.arn)
        try:
            decision = self._decide(resource)
        finally:
            self._busy.discard(resource.arn)
        self.decided[resource.arn] = decision
        return decision

    def _decide(self, r: LegacyResource) -> Decision:
        ctx = self.context
        tags = r.tags or {}
        why: list[str] = []
        if DOMAIN_TAG in tags:
            return Decision(tags[DOMAIN_TAG], Rule.DOMAIN_TAG, [_ev(f"Tags.{DOMAIN_TAG}", tags[DOMAIN_TAG], "tags")])
        if r.created_by_domain_id:
            domain = ctx.by_id.get((r.account_id, r.region, r.created_by_domain_id))
            if domain:
                return Decision(
                    domain.arn, Rule.CREATED_BY, [_ev("CreatedBy.DomainId", r.created_by_domain_id, "Search")]
                )
            why.append(f"CreatedBy names domain {r.created_by_domain_id}, which is not in the inventory")
        else:
            why.append("no CreatedBy")
        for key in (PROFILE_TAG, SPACE_TAG):
            if key in tags:
                domain = ctx.by_id.get((r.account_id, r.region, _domain_id_in(tags[key])))
                if domain:
                    return Decision(domain.arn, Rule.PROFILE_TAG, [_ev(f"Tags.{key}", tags[key], "tags")])
                why.append(f"the {key} tag names no domain of the inventory")
        if r.role_arn:
            # Exactly one domain anywhere uses the role (a role two domains share decides nothing, even when the
            # other domain is in another region), and that domain is in the resource's account and region.
            users = sorted(ctx.role_users.get(r.role_arn, ()))
            if len(users) == 1 and ctx.here(r, users[0]):
                return Decision(
                    users[0],
                    Rule.EXECUTION_ROLE,
                    [_ev("RoleArn", r.role_arn, "discovery"), _ev("used by", users[0], "inventory")],
                )
            if len(users) > 1:
                why.append(f"its role is used by {len(users)} domains")
            elif users:
                why.append("its role belongs to a domain of another region")
            else:
                why.append("its role is no domain's execution role")
        else:
            why.append("no execution role")
        if r.upstream_arn:
            upstream = self.by_arn.get(r.upstream_arn)
            if upstream is None:
                why.append("what it was made from was not discovered")
            else:
                decided = self.decide(upstream)
                if decided.domain_arn:
                    return Decision(
                        decided.domain_arn,
                        Rule.LINEAGE,
                        [
                            _ev("made from", r.upstream_arn, "discovery"),
                            _ev("which belongs to", decided.domain_arn, f"rule {decided.rule}"),
                        ],
                    )
                why.append("what it was made from is unattributed too")
        matched_any = False
        for kind, values in ((AttributionRule.Kind.NAME_PREFIX, [r.name]), (AttributionRule.Kind.S3_PREFIX, r.s3_uris)):
            matches = [
                (rule, value)
                for rule in ctx.rules
                if rule.kind == kind and ctx.here(r, rule.domain.arn)
                for value in values
                if value and value.startswith(rule.prefix)
            ]
            if not matches:
                continue
            matched_any = True
            longest = max(len(rule.prefix) for rule, _ in matches)
            best = [(rule, value) for rule, value in matches if len(rule.prefix) == longest]
            if len({rule.domain.arn for rule, _ in best}) == 1:
                rule, value = best[0]
                label = "name" if kind == AttributionRule.Kind.NAME_PREFIX else "S3"
                return Decision(
                    rule.domain.arn,
                    kind,
                    [_ev(label, value, "discovery"), _ev("rule", f"{label} prefix {rule.prefix}", f"rule #{rule.pk}")],
                    attribution_rule=rule,
                )
            why.append(f"admin {kind} rules of different domains match it equally")
        if not matched_any:
            why.append("no admin rule matches")
        return Decision(why=("Unattributed: " + "; ".join(why) + ".")[:500])


def apply(resource: LegacyResource, decision: Decision, context: Context) -> list[str]:
    """Set the decision on the row; the names of the fields that changed."""
    domain = context.domains.get(decision.domain_arn)
    values = {
        "domain_arn": decision.domain_arn,
        "domain_id": domain.pk if domain else None,
        "rule": decision.rule,
        "evidence": decision.evidence,
        "why_unattributed": decision.why[:500],
        "attribution_rule_id": decision.attribution_rule.pk if decision.attribution_rule else None,
    }
    changed = [name for name, value in values.items() if getattr(resource, name) != value]
    for name in changed:
        setattr(resource, name, values[name])
    coverage = resource.coverage_of()
    if resource.coverage != coverage:
        resource.coverage = coverage
        changed.append("coverage")
    return [name.removesuffix("_id") if name in ("domain_id", "attribution_rule_id") else name for name in changed]
