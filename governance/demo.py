"""Demo data of governance: a full posture check, one accepted risk, one applied change set and 90 days of posture
history.

- The posture check evaluates every check over every domain: each check of the issue fires somewhere in the demo
  organisation, and each domain passes some.
- ``approver`` accepted the risk of research-lab reaching the internet directly (SE-01), with a reason, for 90 days.
- ``approver`` proposed tagging payments-fraud's profiles and spaces with ``sagemaker:domain-arn`` (CO-05), ``admin``
  approved it and it was applied to the sandbox: its findings are resolved.
- Each domain's posture snapshots of the 89 days before today are written as rows: a plausible trend, worse in the
  past and improving step by step (a finding resolved on some day, now and then one that came and went), ending at
  today's real evaluation, so the overview's trend chart has something to show.

What is left for a live walk: ``admin`` sees every finding with its evidence, accepts another risk, and fixes a
domain's idle shutdown (CO-01) through a change set ``approver`` approves.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from changesets import apply
from changesets import services as changesets
from changesets.models import ChangeSet
from domains.models import Domain
from governance import engine, proposals, services
from governance.models import Finding, PostureSnapshot
from portal.models import TaskRun
from portal.registry import registry

HISTORY_DAYS = 90
ACCEPTED = ("SE-01", "research-lab")
ACCEPT_REASON = (
    "Researchers pull public datasets and Python packages from the internet; moving research-lab to VpcOnly with an "
    "egress proxy is planned for next quarter (NET-214). Reviewed with the security team."
)
APPLIED = ("CO-05", "payments-fraud")
APPLY_WAIT_SECONDS = 120  # the sandbox server's lifecycles take a few seconds in the demo


def setup_demo(log: Callable[[str], None]) -> None:
    users = get_user_model().objects.in_bulk(["admin", "approver"], field_name="username")
    domains = {d.name: d for d in Domain.objects.filter(removed_at__isnull=True).select_related("account")}
    if not domains:
        log("Governance: no domain in the inventory, nothing to check.")
        return
    run, created = engine.start_posture_check(trigger=TaskRun.Trigger.COMMAND)
    if created:
        engine.run_posture_check(run.pk)
    checks = Counter(Finding.objects.filter(status=Finding.Status.OPEN).values_list("check_id", flat=True))
    log(f"Posture check #{run.pk}: {sum(checks.values())} open findings of {len(checks)} checks.")
    approver, admin = users.get("approver"), users.get("admin")
    if approver is not None:
        _accept_risk(approver, domains, log)
        if admin is not None:
            _applied_change_set(approver, admin, domains, log)


def finish_demo(log: Callable[[str], None]) -> None:
    """Once every app has set up its demo (the apps after this one add checks and findings too): today's snapshots
    from a full evaluation, and the history before them."""
    if not Domain.objects.filter(removed_at__isnull=True).exists():
        return
    engine.evaluate()  # today's snapshots count the acceptance, what the change set fixed and every app's checks
    written = write_history(timezone.localdate())
    log(f"Posture history: {written} daily snapshots over the last {HISTORY_DAYS} days.")


def _accept_risk(approver: Any, domains: dict[str, Domain], log: Callable[[str], None]) -> None:
    check_id, name = ACCEPTED
    domain = domains.get(name)
    if domain is None or Finding.objects.filter(domain=domain, check_id=check_id, status="accepted").exists():
        return
    finding = Finding.objects.filter(domain=domain, check_id=check_id, status=Finding.Status.OPEN).first()
    if finding is None:
        log(f"No open {check_id} finding in {name}: no risk accepted.")
        return
    until = timezone.localdate() + timedelta(days=90)
    services.do_accept(approver, finding, reason=ACCEPT_REASON, until=until)
    log(f"Risk accepted by {approver.username}: {check_id} on {name}, until {until}.")


def _applied_change_set(approver: Any, admin: Any, domains: dict[str, Domain], log: Callable[[str], None]) -> None:
    check_id, name = APPLIED
    domain = domains.get(name)
    if domain is None or ChangeSet.objects.filter(domain=domain, origin=f"governance:{check_id}").exists():
        return
    try:
        findings = proposals.resolve(approver, check_id=check_id, domain_key=domain.domain_id)
        change_set = proposals.do_propose_fix(approver, findings)
        change_set = changesets.do_approve(change_set, actor=admin)
    except (ValidationError, proposals.NotFound) as exc:
        log(f"No demo change set: {exc}")
        return
    # No worker runs yet: apply it here, turn by turn, as the task would (the task the approval queued finds it
    # applied and stops).
    deadline = time.monotonic() + APPLY_WAIT_SECONDS
    while (countdown := apply.apply_turn(change_set.pk, change_set.task_token)) is not None:
        if time.monotonic() > deadline:
            break
        time.sleep(min(max(countdown, 0.2), 5))
    change_set.refresh_from_db()
    log(f"{change_set.ref} ({change_set.title}): {change_set.get_status_display().lower()}. {change_set.progress}")


# -- history -------------------------------------------------------------------------------------------------------
def _severities(domain: Domain) -> dict[str, str]:
    """The severity each check's findings have in this domain (their most common), else the check's own."""
    counts: dict[str, Counter[str]] = {}
    for check_id, severity in Finding.objects.filter(domain=domain).values_list("check_id", "severity"):
        counts.setdefault(check_id, Counter())[severity] += 1
    result = {c: s.most_common(1)[0][0] for c, s in counts.items()}
    for check in registry.checks.values():
        if check.id not in result:
            result[check.id] = check.severity if isinstance(check.severity, str) else "medium"
    return result


def _events(
    rng: random.Random, check_id: str, now_open: int, resolved_today: int, *, per_domain: bool
) -> list[tuple[int, int]]:
    """Findings of one check in the past, as (opened, resolved) in days ago: those resolved today were open all
    along; a backlog was resolved on days spread over the period; a few came and went. A check of the domain itself
    finds one thing at most: it has no backlog."""
    days = HISTORY_DAYS - 1
    events = [(days + 1, 0) for _ in range(resolved_today)]
    if per_domain:
        return events[: max(0, 1 - now_open)]
    backlog = round((now_open + resolved_today) * rng.uniform(0.2, 0.5)) + rng.randint(0, 1)
    events += [(days + 1, rng.randint(1, days)) for _ in range(backlog)]
    for _ in range(rng.randint(0, 2)):
        opened = rng.randint(2, days)
        events.append((opened, rng.randint(1, opened - 1)))
    return events


def write_history(today: date) -> int:
    """The 89 days before today's real snapshot of each live domain, as rows (days that have one are kept)."""
    rows: list[PostureSnapshot] = []
    start = timezone.now().replace(hour=6, minute=0, second=0, microsecond=0)
    domain_checks = {c.id for c in registry.checks.values() if tuple(c.reads) == ("domain",)}
    for domain in Domain.objects.filter(removed_at__isnull=True).order_by("pk"):
        current = PostureSnapshot.objects.filter(domain=domain, day=today).first()
        if current is None:
            continue
        rng = random.Random(f"posture-history:{domain.arn}")
        severity = _severities(domain)
        # Findings resolved or accepted today were open on every day before.
        left_today = Finding.objects.filter(domain=domain).filter(
            Q(status=Finding.Status.RESOLVED, resolved_at__date=today)
            | Q(status=Finding.Status.ACCEPTED, events__event="accepted", events__at__date=today)
        )
        resolved = Counter(left_today.distinct().values_list("check_id", flat=True))
        checks = sorted(set(current.by_check) | set(resolved))
        events = {
            c: _events(rng, c, current.by_check.get(c, 0), resolved[c], per_domain=c in domain_checks) for c in checks
        }
        for ago in range(1, HISTORY_DAYS):
            by_check = {c: current.by_check.get(c, 0) for c in checks}
            # today's open findings by their real severities, plus those open that day and gone since
            open_by = Counter(high=current.open_high, medium=current.open_medium, low=current.open_low)
            resolved_that_day = 0
            for check_id, spans in events.items():
                extra = sum(1 for opened, closed in spans if closed < ago <= opened)
                by_check[check_id] += extra
                open_by[severity.get(check_id, "medium")] += extra
                resolved_that_day += sum(1 for _, closed in spans if closed == ago)
            by_check = {c: n for c, n in by_check.items() if n}
            classic_extra = by_check.get("UX-02", 0) - current.by_check.get("UX-02", 0)
            rows.append(
                PostureSnapshot(
                    domain=domain,
                    day=today - timedelta(days=ago),
                    open_high=open_by["high"],
                    open_medium=open_by["medium"],
                    open_low=open_by["low"],
                    accepted=0,
                    resolved_today=resolved_that_day,
                    by_check=by_check,
                    classic_profiles=current.classic_profiles,
                    classic_apps_running=max(current.classic_apps_running + classic_extra, 0),
                    taken_at=start - timedelta(days=ago),
                )
            )
    before = PostureSnapshot.objects.count()
    PostureSnapshot.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return PostureSnapshot.objects.count() - before
