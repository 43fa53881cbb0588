"""Fixes of findings, proposed as change sets.

A person picks open findings of one domain (by number, or "every open finding of check X in domain Y"); the fix
planners (:mod:`governance.fixes`) turn them into the exact AWS calls; the person looks at the plan (the calls with
their values before and after, the running apps that pick the change up only after a restart, the estimated monthly
saving) and confirms; the change-set service stores it for another approver of the domain. Once a worker has applied
it, the re-read resources are evaluated again and the findings it closed resolve (:mod:`governance.reevaluate`).

Entry points:

- :func:`resolve` ``(user, finding_ids=..., check_id=..., domain_key=...)``: the findings a selection names, among
  those the person may fix (:class:`NotFound` otherwise: a 404 on the pages and the API).
- :func:`plan` ``(actor, findings, tag_values=None) -> FixPlan``: every rule checked, nothing stored.
- :func:`do_propose_fix` ``(actor, findings, ...) -> ChangeSet``: the same checks, then the change set, linked to its
  findings (:class:`governance.models.FindingFix`), in one transaction; audited per finding.

Rules (each refusal a ValidationError that says why): the findings belong to one domain; the person is a platform
admin or an approver of it; every finding is open (not resolved, not accepted); its check has a planner; no change set
still pending (proposed, approved, applying or waiting) already fixes it; a TG-03 fix names a value for every
required tag the domain lacks; the plan changes something and every call passes the change-set checks.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from changesets import services as changesets
from changesets.models import ChangeSet
from changesets.planning import PlannedChange
from domains.models import Domain
from governance import fixes
from governance.models import Finding, FindingEvent, FindingFix
from governance.services import policy_of
from portal import audit
from portal.scoping import APPROVE, grants_for, is_system_actor
from profiles.models import App, Space, UserProfile

PENDING = (ChangeSet.Status.PROPOSED, *ChangeSet.WORKING)
MAX_FINDINGS = 1000
TAG_VALUE = re.compile(r"^[\w\s.:/=+\-@]{1,256}$")  # AWS's tag value pattern ([\p{L}\p{Z}\p{N}_.:/=+\-@]*)
SHOWN = 5  # findings named in a refusal before "and N more"

AUDIT_ACTIONS = {"finding.fix_proposed": "Fix proposed for a finding (change set)"}


class NotFound(LookupError):
    """The selection names a finding or domain the person may not fix (or that does not exist): a 404."""


def fixable_check_ids() -> list[str]:
    return sorted(fixes.PLANNERS)


def pending_fixes(findings: Iterable[Finding] | QuerySet) -> QuerySet:
    """The links of these findings to change sets that are still pending."""
    return FindingFix.objects.filter(finding__in=findings, change_set__status__in=PENDING)


def parse_ids(values: Iterable[Any]) -> list[int]:
    """Finding numbers from ``12``, ``"12"`` or ``"12,13"``; a ValidationError for anything else."""
    ids: list[int] = []
    for value in values:
        parts = value.split(",") if isinstance(value, str) else [value]
        for part in parts:
            text = str(part).strip()
            if not text:
                continue
            if not text.isdigit() or int(text) < 1:
                raise ValidationError({"findings": [f"{text[:40]!r} is not a finding number (e.g. findings=12,13)."]})
            ids.append(int(text))
    return list(dict.fromkeys(ids))


def _named(findings: list[Finding]) -> str:
    shown = ", ".join(f"#{f.pk} ({f.check_id} on {f.resource_name})" for f in findings[:SHOWN])
    return shown + (f" and {len(findings) - SHOWN} more" if len(findings) > SHOWN else "")


def resolve(
    user: Any, *, finding_ids: list[int] | None = None, check_id: str = "", domain_key: str = ""
) -> list[Finding]:
    """The findings a selection names: numbers, or every open finding of one check in one domain that no pending
    change set fixes yet. Only findings the person may fix count (approvers of their domain, platform admins)."""
    finding_ids = list(finding_ids or [])
    if finding_ids and (check_id or domain_key):
        raise ValidationError("Name findings by number, or a check and a domain, not both.")
    if not finding_ids and not (check_id and domain_key):
        raise ValidationError(
            "Say which findings to fix: their numbers (findings=12,13), or a check and a domain "
            "(check=CO-01&domain=d-...)."
        )
    if len(finding_ids) > MAX_FINDINGS:
        raise ValidationError({"findings": [f"At most {MAX_FINDINGS} findings at a time."]})
    scope = Finding.objects.restrict(user, APPROVE).select_related("domain", "domain__account")
    if finding_ids:
        found = {f.pk: f for f in scope.filter(pk__in=finding_ids)}
        missing = [pk for pk in finding_ids if pk not in found]
        if missing:
            raise NotFound(f"No finding {', '.join(map(str, missing[:SHOWN]))} that you may fix.")
        return [found[pk] for pk in finding_ids]
    if check_id not in fixes.PLANNERS:
        known = ", ".join(fixable_check_ids())
        raise ValidationError({"check": [f"{check_id[:20]!r} is not a check a change set can fix ({known})."]})
    domains = list(Domain.objects.restrict(user, APPROVE).filter(Q(domain_id=domain_key) | Q(arn=domain_key))[:2])
    if len(domains) != 1:
        raise NotFound(f"No domain {domain_key[:80]} whose findings you may fix.")
    domain = domains[0]
    open_ones = scope.filter(domain=domain, check_id=check_id, status=Finding.Status.OPEN)
    open_ones = open_ones.order_by("resource_name", "pk")
    covered = pending_fixes(open_ones).select_related("change_set")
    taken = {link.finding_id: link.change_set for link in covered}
    findings = [f for f in open_ones if f.pk not in taken]
    if not findings:
        if taken:
            refs = ", ".join(sorted({f"{cs.ref} ({cs.get_status_display().lower()})" for cs in taken.values()}))
            raise ValidationError(f"{refs} already fixes every open {check_id} finding of {domain.name}.")
        raise ValidationError(f"No open {check_id} finding in {domain.name}: nothing to fix.")
    return findings


# -- the plan ------------------------------------------------------------------------------------------------------
@dataclass
class FixPlan:
    """What a fix would propose, before anything is stored."""

    domain: Domain
    findings: list[Finding]
    changes: list[PlannedChange]
    title: str
    origin: str
    restart_arns: list[str] = field(default_factory=list)
    missing_tags: list[str] = field(default_factory=list)

    @property
    def check_ids(self) -> list[str]:
        return sorted({f.check_id for f in self.findings})

    @property
    def monthly_saving(self) -> Decimal | None:
        savings = [c.monthly_saving for c in self.changes if c.monthly_saving is not None]
        return sum(savings, Decimal(0)) if savings else None

    @property
    def needs_no_running_apps(self) -> bool:
        return any(c.needs_no_running_apps for c in self.changes)

    @property
    def digest(self) -> str:
        """A fingerprint of the calls: a confirmation names the plan it saw, and a plan that changed since is not
        proposed blind."""
        body = [
            {**asdict(c), "monthly_saving": str(c.monthly_saving) if c.monthly_saving is not None else None}
            for c in self.changes
        ]
        payload = json.dumps({"findings": sorted(f.pk for f in self.findings), "changes": body}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:32]

    def restart_apps(self) -> list[App]:
        rows = {a.arn: a for a in App.objects.filter(arn__in=self.restart_arns)}
        return [rows[arn] for arn in self.restart_arns if arn in rows]


def _missing_tags(domain: Domain) -> list[str]:
    return [k for k in policy_of(domain).required_tags if not (domain.tags or {}).get(k)]


def _check_tag_values(domain: Domain, check_ids: set[str], tag_values: Mapping[str, str]) -> dict[str, str]:
    values = {str(k).strip(): str(v).strip() for k, v in (tag_values or {}).items() if str(v).strip()}
    if "TG-03" not in check_ids:
        if values:
            raise ValidationError({"tag_values": ["Tag values are for a TG-03 fix (required domain tags) only."]})
        return {}
    missing = _missing_tags(domain)
    unknown = sorted(set(values) - set(missing))
    if unknown:
        raise ValidationError(
            {
                "tag_values": [
                    f"{', '.join(unknown)}: not a required tag {domain.name} lacks"
                    + (f" (it lacks {', '.join(missing)})." if missing else " (it lacks none).")
                ]
            }
        )
    bad = [k for k, v in values.items() if not TAG_VALUE.match(v)]
    if bad:
        raise ValidationError(
            {"tag_values": [f"{', '.join(bad)}: up to 256 letters, digits, spaces and _ . : / = + - @ only."]}
        )
    lacking = [k for k in missing if k not in values]
    if lacking:
        raise ValidationError(
            {
                "tag_values": [
                    f"Give a value for {', '.join(lacking)}: {domain.name} lacks "
                    f"{'this required tag' if len(lacking) == 1 else 'these required tags'}, and the portal does not "
                    "invent tag values."
                ]
            }
        )
    return values


def _dedupe(changes: list[PlannedChange]) -> list[PlannedChange]:
    """Two checks may plan the same call (UX-02 and CO-04 both stop an idle Classic kernel): it is made once."""
    seen: set[str] = set()
    unique = []
    for change in changes:
        key = json.dumps([change.operation, change.resource_arn, change.request], sort_keys=True)
        if key not in seen:
            seen.add(key)
            unique.append(change)
    return unique


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _title(domain: Domain, findings: list[Finding], changes: list[PlannedChange]) -> str:
    checks = sorted({f.check_id for f in findings})
    name = domain.name
    if len(checks) > 1:
        return f"Fix {_plural(len(findings), 'finding')} of {name} ({', '.join(checks)})"
    check = checks[0]
    kinds = Counter(f.resource_kind for f in findings)
    saving = sum((c.monthly_saving for c in changes if c.monthly_saving is not None), Decimal(0))
    saves = f", saving about ${saving:,.0f} a month" if saving else ""
    if check in ("CO-01", "CO-02"):
        cap = policy_of(domain).idle_timeout_cap_minutes
        profiles = UserProfile.objects.filter(domain=domain, removed_at__isnull=True).count()
        spaces = Space.objects.filter(domain=domain, removed_at__isnull=True).count()
        what = f"all {_plural(profiles, 'profile')}" + (f" and {_plural(spaces, 'space')}" if spaces else "")
        if check == "CO-01":
            return f"Idle shutdown {cap} min on {what} of {name}"
        return f"Idle timeout capped at {cap} min (idle = min = max) on {what} of {name}"
    if check == "CO-03":
        return f"Space idle timeout down to the allowed maximum on {_plural(kinds['space'], 'space')} of {name}"
    if check == "CO-04":
        return f"Stop {_plural(len(findings), 'idle app')} in {name}{saves}"
    if check == "UX-02":
        return f"Stop {_plural(len(findings), 'Studio Classic app')} in {name}{saves}"
    if check == "UX-01":
        profiles = kinds["profile"]
        target = "the domain default" if kinds["domain"] else ""
        if profiles:
            target += (" and " if target else "") + _plural(profiles, "profile")
        return f"New Studio as the landing page of {name} ({target})"
    if check == "CO-05":
        parts = [_plural(kinds[k], k) for k in ("profile", "space") if kinds[k]]
        return f"Tag {' and '.join(parts)} of {name} with sagemaker:domain-arn"
    if check == "SE-03":
        return f"Turn off Docker access in {name}"
    if check == "SE-04":
        return f"Turn off remote access to {_plural(kinds['space'], 'space')} of {name}"
    if check == "TG-03":
        done = []
        if any(c.operation == "AddTags" for c in changes):
            done.append("required tags")
        if any(c.operation == "UpdateDomain" for c in changes):
            done.append("tag propagation")
        return f"{' and '.join(done).capitalize()} on {name}"
    return f"Fix {_plural(len(findings), 'finding')} of {name} ({check})"


def plan(actor: Any, findings: list[Finding], *, tag_values: Mapping[str, str] | None = None) -> FixPlan:
    """The change set these findings' fix would propose; a ValidationError saying why when none may be."""
    if not findings:
        raise ValidationError("No finding to fix: choose open findings of one domain.")
    domains = {f.domain_id: f.domain for f in findings}
    if len(domains) > 1:
        names = ", ".join(sorted(d.name for d in domains.values()))
        raise ValidationError(
            f"These findings belong to {len(domains)} domains ({names}); a change set changes one domain, so fix "
            "each domain's findings apart."
        )
    domain = next(iter(domains.values()))
    changesets.check_can_propose(actor, domain)
    not_open = [f for f in findings if f.status != Finding.Status.OPEN]
    if not_open:
        states = sorted({f.get_status_display().lower() for f in not_open})
        raise ValidationError(
            f"Only open findings are fixed; {_named(not_open)} {'is' if len(not_open) == 1 else 'are'} "
            f"{' or '.join(states)}."
        )
    unfixable = sorted({f.check_id for f in findings if f.check_id not in fixes.PLANNERS or not f.fix_plannable})
    if unfixable:
        texts = {f.check_id: f.fix for f in findings}
        reasons = "; ".join(f"{c}: {texts[c] or 'see the finding'}" for c in unfixable)
        raise ValidationError(f"No change set can fix {', '.join(unfixable)} (the fix is a person's work): {reasons}")
    taken = list(pending_fixes(findings).select_related("change_set", "finding").order_by("change_set_id"))
    if taken:
        by_set: dict[ChangeSet, list[Finding]] = {}
        for link in taken:
            by_set.setdefault(link.change_set, []).append(link.finding)
        parts = [
            f"{cs.ref} ({cs.get_status_display().lower()}) already fixes {_named(fs)}" for cs, fs in by_set.items()
        ]
        raise ValidationError(
            "; ".join(parts) + ". Approve, reject or cancel it before proposing another fix for the same findings."
        )
    check_ids = {f.check_id for f in findings}
    values = _check_tag_values(domain, check_ids, tag_values or {})
    try:
        planned = _dedupe(fixes.plan_fix(findings, tag_values=values))
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    if not planned:
        raise ValidationError(
            "Nothing to change: the inventory already shows the fixed values. The next sync and posture check "
            "resolve these findings."
        )
    planned = changesets.validate_changes(domain, planned)
    restarts = sorted({arn for c in planned for arn in c.restarts})
    return FixPlan(
        domain=domain,
        findings=list(findings),
        changes=planned,
        title=_title(domain, findings, planned)[:200],
        origin=f"governance:{','.join(sorted(check_ids))}"[:100],
        restart_arns=restarts,
        missing_tags=_missing_tags(domain) if "TG-03" in check_ids else [],
    )


def missing_tags_for(findings: list[Finding]) -> list[str]:
    """The required tags a TG-03 fix of these findings needs values for (for the form that asks)."""
    domains = {f.domain_id: f.domain for f in findings if f.check_id == "TG-03"}
    return _missing_tags(next(iter(domains.values()))) if len(domains) == 1 else []


@transaction.atomic
def do_propose_fix(
    actor: Any,
    findings: list[Finding],
    *,
    tag_values: Mapping[str, str] | None = None,
    title: str = "",
    expected_digest: str = "",
) -> ChangeSet:
    """Propose the fix of these findings as one change set, linked to them; audited per finding. With
    ``expected_digest`` (the plan the person confirmed) a plan that changed meanwhile is refused, not proposed."""
    locked = list(
        Finding.objects.select_for_update(of=("self",))
        .select_related("domain", "domain__account")
        .filter(pk__in=[f.pk for f in findings])
        .order_by("pk")
    )
    by_pk = {f.pk: f for f in locked}
    findings = [by_pk[f.pk] for f in findings if f.pk in by_pk]
    fix = plan(actor, findings, tag_values=tag_values)
    if expected_digest and expected_digest != fix.digest:
        raise ValidationError(
            "The plan changed since it was shown (the inventory or the findings moved on): look at it again before "
            "proposing."
        )
    change_set = changesets.propose(
        actor,
        fix.domain,
        (title or "").strip() or fix.title,
        fix.changes,
        origin=fix.origin,
        finding_ids=[f.pk for f in findings],
    )
    link_fix(change_set, findings, actor, calls=len(fix.changes))
    return change_set


def fixes_of(finding: Finding) -> list[ChangeSet]:
    """Every change set proposed to fix this finding, newest first."""
    links = FindingFix.objects.filter(finding=finding).select_related("change_set").order_by("-change_set_id")
    return [link.change_set for link in links]


def may_fix(user: Any, finding: Finding) -> bool:
    """Whether the Fix button shows: an open finding of a plannable check, for an approver of its domain."""
    if is_system_actor(user):
        return True
    return (
        finding.status == Finding.Status.OPEN
        and finding.fix_plannable
        and finding.check_id in fixes.PLANNERS
        and grants_for(user).allows(APPROVE, finding.domain.arn)
    )


def link_fix(change_set: Any, findings: list[Finding], actor: Any, *, calls: int) -> None:
    """Findings linked to the change set proposed as their fix (the finding page shows it, and says whether it
    closed the finding once applied): one "fix proposed" event and one audit event per finding."""
    FindingFix.objects.bulk_create([FindingFix(finding=f, change_set=change_set) for f in findings])
    now, label = timezone.now(), audit.actor_label(actor)
    FindingEvent.objects.bulk_create(
        [
            FindingEvent(
                finding=f,
                at=now,
                event="fix proposed",
                status=f.status,
                actor_label=label,
                note=f"{change_set.ref}: {change_set.title}"[:1000],
            )
            for f in findings
        ]
    )
    for finding in findings:
        audit.record(
            "finding.fix_proposed",
            finding,
            actor=actor,
            domain_arn=change_set.domain.arn,
            after={"change_set": change_set.ref, "title": change_set.title, "calls": calls},
            request_id=change_set.ref,
        )
