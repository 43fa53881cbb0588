"""Services of governance: edit a domain's policy, accept a finding's risk, expire acceptances (and reopen)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from domains.models import Domain
from governance.models import Finding, FindingEvent, GovernancePolicy
from portal import audit
from portal.mail import send_mail_later
from portal.scoping import APPROVE, grants_for, is_system_actor

MAX_ACCEPT_DAYS = 180
POLICY_FIELDS = ["idle_timeout_cap_minutes", "app_idle_hours", "gpu_families", "required_tags", "regulated"]

AUDIT_ACTIONS = {
    "governance_policy.created": "Governance policy created",
    "governance_policy.updated": "Governance policy changed",
    "finding.accepted": "Finding's risk accepted",
    "finding.acceptance_expired": "Finding's risk acceptance expired",
    "finding.reopened": "Finding reopened",
}


def _may_approve(actor: Any, domain: Domain) -> bool:
    return is_system_actor(actor) or grants_for(actor).allows(APPROVE, domain.arn)


def policy_of(domain: Domain) -> GovernancePolicy:
    policy = GovernancePolicy.objects.filter(domain=domain).first() or GovernancePolicy(domain=domain)
    policy.domain = domain
    return policy


def check_can_edit_policy(actor: Any, domain: Domain) -> None:
    if not _may_approve(actor, domain):
        raise ValidationError("Only platform admins and the domain's approvers change its governance policy.")
    if domain.removed_at is not None:
        raise ValidationError(f"{domain.name} is no longer in AWS; its policy cannot change.")


def _values(policy: GovernancePolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


def do_edit_policy(actor: Any, domain: Domain, **changes: Any) -> GovernancePolicy:
    """Validate and save the domain's policy with these changes (only the POLICY_FIELDS), audited."""
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown policy field(s): {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        domain = Domain.objects.select_for_update().get(pk=domain.pk)
        check_can_edit_policy(actor, domain)
        policy = GovernancePolicy.objects.select_for_update().filter(domain=domain).first()
        before = _values(policy) if policy else None
        policy = policy or GovernancePolicy(domain=domain)
        for name, value in changes.items():
            if name in ("gpu_families", "required_tags") and isinstance(value, list):
                value = [str(v).strip() for v in value if str(v).strip()]
            setattr(policy, name, value)
        policy.full_clean()
        policy.save()
        audit.record(
            f"governance_policy.{'updated' if before else 'created'}",
            policy,
            actor=actor,
            domain_arn=domain.arn,
            before=before,
            after=_values(policy),
        )
    return policy


def check_can_accept(actor: Any, finding: Finding, reason: str, until: date | None) -> None:
    if not _may_approve(actor, finding.domain):
        raise ValidationError("Only an approver of the finding's domain accepts its risk.")
    if finding.status != Finding.Status.OPEN:
        raise ValidationError(
            f"Only an open finding's risk can be accepted; this one is {finding.get_status_display()}."
        )
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the risk is accepted."})
    today = timezone.localdate()
    if until is None:
        raise ValidationError({"until": "Give the date the acceptance ends."})
    if until <= today:
        raise ValidationError({"until": "The acceptance must end after today."})
    if until > today + timedelta(days=MAX_ACCEPT_DAYS):
        raise ValidationError(
            {
                "until": f"A risk is accepted for at most {MAX_ACCEPT_DAYS} days "
                f"(until {today + timedelta(days=MAX_ACCEPT_DAYS)})."
            }
        )


def do_accept(actor: Any, finding: Finding, *, reason: str, until: date | None) -> Finding:
    with transaction.atomic():
        finding = Finding.objects.select_for_update().select_related("domain").get(pk=finding.pk)
        check_can_accept(actor, finding, reason, until)
        now = timezone.now()
        finding.status = Finding.Status.ACCEPTED
        finding.accepted_by = None if is_system_actor(actor) else actor
        finding.accepted_reason = reason.strip()[:2000]
        finding.accepted_until = until
        finding.save(update_fields=["status", "accepted_by", "accepted_reason", "accepted_until"])
        label = audit.actor_label(actor)
        FindingEvent.objects.create(
            finding=finding,
            at=now,
            event="accepted",
            status=finding.status,
            actor_label=label,
            note=f"Until {until}: {finding.accepted_reason}"[:1000],
        )
        audit.record(
            "finding.accepted",
            finding,
            actor=actor,
            domain_arn=finding.domain.arn,
            before={"status": Finding.Status.OPEN},
            after={"status": finding.status, "until": str(until), "reason": finding.accepted_reason},
        )
    return finding


def expire_acceptances(today: date | None = None) -> int:
    """Accepted findings whose acceptance ended reopen; whoever accepted them is emailed. Audited."""
    today = today or timezone.localdate()
    reopened = 0
    with transaction.atomic():
        due = list(
            Finding.objects.select_for_update(of=("self",))
            .select_related("domain", "accepted_by")
            .filter(status=Finding.Status.ACCEPTED, accepted_until__lt=today)
        )
        now = timezone.now()
        for finding in due:
            until = finding.accepted_until
            finding.status = Finding.Status.OPEN
            finding.save(update_fields=["status"])
            FindingEvent.objects.create(
                finding=finding,
                at=now,
                event="expired",
                status=Finding.Status.OPEN,
                note=f"The acceptance ended on {until}.",
            )
            common = {"actor": "scheduler", "domain_arn": finding.domain.arn}
            audit.record(
                "finding.acceptance_expired",
                finding,
                before={"status": "accepted", "until": str(until)},
                after={"status": "open"},
                **common,
            )
            audit.record("finding.reopened", finding, before={"status": "accepted"}, after={"status": "open"}, **common)
            if finding.accepted_by and finding.accepted_by.email:
                send_mail_later(
                    f"Accepted risk expired: {finding.check_id} on {finding.resource_name}",
                    f"The risk you accepted on {finding.resource_name} ({finding.domain.name}) ended on {until}; "
                    f"the finding is open again.\n\n{finding.details}\n",
                    [finding.accepted_by.email],
                )
            reopened += 1
    return reopened
