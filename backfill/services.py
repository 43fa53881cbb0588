"""What people do in the tag backfill, each checked and audited: start a discovery, add or delete an admin's
attribution rule (its effect previewed first), except a resource from the backfill with a reason, or lift that."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from backfill import attribution, discovery
from backfill.models import AttributionRule, LegacyResource
from domains.models import Domain
from portal import audit
from portal.scoping import require_admin

AUDIT_ACTIONS = {
    "backfill_rule.created": "Attribution rule added",
    "backfill_rule.deleted": "Attribution rule deleted",
    "legacy_resource.excepted": "Legacy resource excepted from the backfill",
    "legacy_resource.unexcepted": "Legacy resource exception lifted",
}
PREVIEW_SAMPLE = 20


def _admin(actor: Any) -> None:
    try:
        require_admin(actor)
    except Exception as exc:  # the 404 of pages: a service says it in words
        raise ValidationError("Only platform admins manage the tag backfill.") from exc


def clean_rule(kind: str, prefix: str, domain: Domain | None) -> tuple[str, str]:
    prefix = (prefix or "").strip()
    if kind not in AttributionRule.Kind.values:
        raise ValidationError({"kind": "Choose a name prefix or an S3 prefix."})
    if domain is None or domain.removed_at is not None:
        raise ValidationError({"domain": "Choose a domain of the inventory."})
    if kind == AttributionRule.Kind.S3_PREFIX:
        if not prefix.startswith("s3://") or len(prefix) <= len("s3://"):
            raise ValidationError(
                {"prefix": "An S3 prefix starts with s3:// and names a bucket, e.g. s3://risk-data/."}
            )
    elif len(prefix) < 2:
        raise ValidationError({"prefix": "A name prefix needs at least 2 characters, e.g. risk-."})
    if len(prefix) > 512:
        raise ValidationError({"prefix": "At most 512 characters."})
    if AttributionRule.objects.filter(kind=kind, prefix=prefix, domain=domain).exists():
        raise ValidationError({"prefix": "This rule exists already."})
    return kind, prefix


@dataclass
class Preview:
    """What a rule would change if saved: resources it would attribute (or move), by domain, with samples."""

    gained: int = 0
    moved: int = 0
    matched: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    sample: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "gained": self.gained,
            "moved": self.moved,
            "matched": self.matched,
            "by_type": self.by_type,
            "sample": self.sample,
        }


def preview_rule(kind: str, prefix: str, domain: Domain | None) -> Preview:
    """The effect of adding this rule, computed as attribution would decide with it, nothing saved."""
    kind, prefix = clean_rule(kind, prefix, domain)
    assert domain is not None
    candidate = AttributionRule(kind=kind, prefix=prefix, domain=domain)
    rules = [*AttributionRule.objects.select_related("domain", "domain__account"), candidate]
    context = attribution.Context.load(rules)
    rows = list(
        LegacyResource.objects.filter(
            account_id=domain.account.account_id, region=domain.region, removed_at__isnull=True
        )
    )
    decider = attribution.Attributor(rows, context)
    preview = Preview()
    for row in rows:
        decision = decider.decide(row)
        if decision.attribution_rule is candidate:
            preview.matched += 1
        if decision.domain_arn == row.domain_arn:
            continue
        if row.domain_arn:
            preview.moved += 1
        else:
            preview.gained += 1
        preview.by_type[row.resource_type] = preview.by_type.get(row.resource_type, 0) + 1
        if len(preview.sample) < PREVIEW_SAMPLE:
            preview.sample.append(
                {
                    "arn": row.arn,
                    "name": row.name,
                    "type": row.resource_type,
                    "rule": decision.rule,
                    "from": row.domain_arn,
                    "to": decision.domain_arn,
                }
            )
    preview.by_type = dict(sorted(preview.by_type.items()))
    return preview


def do_add_rule(actor: Any, *, kind: str, prefix: str, domain: Domain | None, note: str = "") -> AttributionRule:
    _admin(actor)
    kind, prefix = clean_rule(kind, prefix, domain)
    with transaction.atomic():
        rule = AttributionRule.objects.create(
            kind=kind, prefix=prefix, domain=domain, note=note[:200], created_by=actor
        )
        changed = discovery.attribute_all()
        audit.record(
            "backfill_rule.created",
            rule,
            actor=actor,
            domain_arn=rule.domain.arn,
            after={"kind": kind, "prefix": prefix, "domain": rule.domain.arn, "resources_changed": changed},
        )
    return rule


def do_delete_rule(actor: Any, rule: AttributionRule) -> int:
    _admin(actor)
    with transaction.atomic():
        before = {"kind": rule.kind, "prefix": rule.prefix, "domain": rule.domain.arn}
        audit.record("backfill_rule.deleted", rule, actor=actor, domain_arn=rule.domain.arn, before=before)
        rule.delete()
        return discovery.attribute_all()


def do_except(actor: Any, resource: LegacyResource, *, reason: str) -> LegacyResource:
    _admin(actor)
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ValidationError({"reason": "Say why this resource is left untagged (at least 5 characters)."})
    if resource.tagged:
        raise ValidationError("This resource already carries the domain tag: there is nothing to except.")
    with transaction.atomic():
        resource.excepted_reason, resource.excepted_by, resource.excepted_at = reason[:500], actor, timezone.now()
        resource.coverage = resource.coverage_of()
        resource.save(update_fields=["excepted_reason", "excepted_by", "excepted_at", "coverage"])
        audit.record(
            "legacy_resource.excepted", resource, actor=actor, domain_arn=resource.domain_arn, after={"reason": reason}
        )
    return resource


def do_unexcept(actor: Any, resource: LegacyResource) -> LegacyResource:
    _admin(actor)
    if not resource.excepted_reason:
        raise ValidationError("This resource is not excepted.")
    with transaction.atomic():
        before = {"reason": resource.excepted_reason}
        resource.excepted_reason, resource.excepted_by, resource.excepted_at = "", None, None
        resource.coverage = resource.coverage_of()
        resource.save(update_fields=["excepted_reason", "excepted_by", "excepted_at", "coverage"])
        audit.record("legacy_resource.unexcepted", resource, actor=actor, domain_arn=resource.domain_arn, before=before)
    return resource
