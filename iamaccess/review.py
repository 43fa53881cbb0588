"""The IAM review: which role acts for what, each role's policies, and the probes simulated, as a task run.

Entry points:

- :func:`start_review` ``(*, trigger, actor=None, domain=None, inline=False)``: start (or join) a review of every
  domain or one; queued for the workers after commit unless ``inline`` (tests, the demo, ``manage.py review_iam``).
- :func:`run_review` ``(run_id)``: the steps: one per AWS account (read its roles with
  GetAccountAuthorizationDetails, simulate the probes of the roles whose policies or probe set changed), then one
  that evaluates the governance checks of the domains reviewed.

A role whose policy hash and probe set are those of a stored :class:`ProbeEvaluation` is not simulated again: a
second review of unchanged roles makes no SimulatePrincipalPolicy call (and reads each AWS managed policy's
document only when its default version moved).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from domains.models import AwsAccount, Domain
from iamaccess import probes as probing
from iamaccess import reader, roles, simulate
from iamaccess.models import ExecutionRole, ProbeEvaluation, RoleUse
from portal import runs
from portal.models import TaskRun
from portal.registry import RunKind
from profiles import effective
from profiles.models import Space, UserProfile

logger = logging.getLogger(__name__)

IAM_REVIEW = RunKind("iam_review", "IAM review", url_prefix="iamaccess:review")
RUN_TASK = "iamaccess.run_review"


@dataclass(frozen=True)
class ReviewScope:
    domain_arn: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"domain_arn": self.domain_arn} if self.domain_arn else {}


def start_review(
    *,
    trigger: str,
    actor: AbstractBaseUser | None = None,
    domain: Domain | None = None,
    inline: bool = False,
    enqueue: bool = True,
) -> tuple[TaskRun, bool]:
    """A review of every domain's execution roles (or one domain's); joins the one of the same scope running."""
    scope = ReviewScope(domain.arn if domain else None)
    label = f"domain {domain.name} ({domain.domain_id})" if domain else "all domains"
    run, created = runs.start_run(
        IAM_REVIEW.kind, scope, label, trigger=trigger, actor=actor, domain_arns=[domain.arn] if domain else None
    )
    if created:
        if inline:
            run_review(run.pk)
            run.refresh_from_db()
        elif enqueue:
            from portal.celery import app

            transaction.on_commit(lambda: app.send_task(RUN_TASK, args=[run.pk]))
    return run, created


# -- who acts as which role --------------------------------------------------------------------------------------
def _uses_of(domain: Domain, profiles: list[UserProfile], spaces: list[Space]) -> list[tuple[str, RoleUse]]:
    """(role ARN, unsaved RoleUse) for everything in one domain that acts as a role."""
    found: list[tuple[str, RoleUse]] = []
    snapshot = domain.settings_snapshot
    default = roles.domain_default_role(snapshot)
    if default:
        found.append((default, RoleUse(domain=domain, kind=RoleUse.Kind.DOMAIN_DEFAULT, source=effective.DOMAIN)))
    shared = roles.space_role(snapshot)
    if shared.value:
        found.append((shared.value, RoleUse(domain=domain, kind=RoleUse.Kind.SPACE_DEFAULT, source=shared.source)))
    by_pk: dict[int, tuple[str, str]] = {}
    for profile in profiles:
        setting = effective.profile_settings(snapshot, profile.settings_snapshot)["ExecutionRole"]
        if setting.value:
            by_pk[profile.pk] = (setting.value.strip(), setting.source)
            found.append(
                (
                    setting.value.strip(),
                    RoleUse(domain=domain, kind=RoleUse.Kind.PROFILE, profile=profile, source=setting.source),
                )
            )
    for space in spaces:
        if space.sharing_type == "Shared":
            if shared.value:
                use = RoleUse(domain=domain, kind=RoleUse.Kind.SHARED_SPACE, space=space, source=shared.source)
                found.append((shared.value, use))
        elif space.owner_profile_id in by_pk:
            arn, source = by_pk[space.owner_profile_id]
            found.append(
                (arn, RoleUse(domain=domain, kind=RoleUse.Kind.PRIVATE_SPACE, space=space, source=f"owner's {source}"))
            )
    return found


@transaction.atomic
def record_uses(domains: list[Domain]) -> set[int]:
    """Rewrite what the roles act for in these domains, from the inventory; the pks of the roles involved (those
    that served these domains before too, so that a role no longer used loses its counts)."""
    pks = [d.pk for d in domains]
    before = set(RoleUse.objects.filter(domain_id__in=pks).values_list("role_id", flat=True))
    profiles: dict[int, list[UserProfile]] = defaultdict(list)
    for profile in UserProfile.objects.filter(domain_id__in=pks, removed_at__isnull=True):
        profiles[profile.domain_id].append(profile)
    spaces: dict[int, list[Space]] = defaultdict(list)
    for space in Space.objects.filter(domain_id__in=pks, removed_at__isnull=True):
        spaces[space.domain_id].append(space)
    uses: list[tuple[str, RoleUse]] = []
    for domain in domains:
        uses += _uses_of(domain, profiles[domain.pk], spaces[domain.pk])
    arns = sorted({arn for arn, _ in uses})
    existing = {r.arn: r for r in ExecutionRole.objects.filter(arn__in=arns)}
    accounts = {a.account_id: a for a in AwsAccount.objects.all()}
    new = [
        ExecutionRole(
            arn=arn,
            aws_account_id=roles.account_of(arn),
            account=accounts.get(roles.account_of(arn)),
            name=reader.role_name_of(arn)[:64],
        )
        for arn in arns
        if arn not in existing
    ]
    ExecutionRole.objects.bulk_create(new)
    existing.update({r.arn: r for r in ExecutionRole.objects.filter(arn__in=[r.arn for r in new])})
    RoleUse.objects.filter(domain_id__in=pks).delete()
    for arn, use in uses:
        use.role = existing[arn]
    RoleUse.objects.bulk_create([use for _, use in uses], batch_size=500)
    involved = before | {r.pk for r in existing.values()}
    _recount(involved)
    return involved


def _recount(role_pks: set[int]) -> None:
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"profile": 0, "space": 0})
    for role_id, kind in RoleUse.objects.filter(role_id__in=role_pks).values_list("role_id", "kind"):
        if kind == RoleUse.Kind.PROFILE:
            counts[role_id]["profile"] += 1
        elif kind in (RoleUse.Kind.PRIVATE_SPACE, RoleUse.Kind.SHARED_SPACE):
            counts[role_id]["space"] += 1
    rows = list(ExecutionRole.objects.filter(pk__in=role_pks))
    for role in rows:
        role.profile_count, role.space_count = counts[role.pk]["profile"], counts[role.pk]["space"]
    ExecutionRole.objects.bulk_update(rows, ["profile_count", "space_count"])


def targets_of(role_pks: list[int]) -> dict[int, list[probing.DomainTarget]]:
    """The domains each role serves, with the instance types any profile of the domain hides (every profile may
    work in a shared space; a profile's own role is probed for the same list, so the set stays one per domain)."""
    pairs = set(RoleUse.objects.filter(role_id__in=role_pks).values_list("role_id", "domain_id"))
    domain_pks = {d for _, d in pairs}
    domains = {d.pk: d for d in Domain.objects.filter(pk__in=domain_pks).select_related("account")}
    hidden: dict[int, set[str]] = defaultdict(set)
    for domain in domains.values():
        hidden[domain.pk] |= set(
            effective.profile_settings(domain.settings_snapshot, {})["HiddenInstanceTypes"].value or []
        )
    for domain_pk, snapshot in UserProfile.objects.filter(
        domain_id__in=domain_pks, removed_at__isnull=True
    ).values_list("domain_id", "settings_snapshot"):
        own = ((snapshot or {}).get("StudioWebPortalSettings") or {}).get("HiddenInstanceTypes") or []
        hidden[domain_pk] |= set(own)
    targets: dict[int, list[probing.DomainTarget]] = defaultdict(list)
    for role_pk, domain_pk in sorted(pairs):
        domain = domains[domain_pk]
        targets[role_pk].append(
            probing.DomainTarget(
                domain.domain_id, domain.arn, domain.account.account_id, domain.region, tuple(sorted(hidden[domain_pk]))
            )
        )
    return targets


# -- one account's roles -----------------------------------------------------------------------------------------
def _summary(results: list[dict[str, Any]]) -> dict[str, int]:
    counts = {probing.ALLOWED: 0, probing.CONDITIONAL: 0, probing.EXPLICIT_DENY: 0, probing.IMPLICIT_DENY: 0}
    for result in results:
        counts[result["outcome"]] = counts.get(result["outcome"], 0) + 1
    return counts


def review_account(account_id: str, role_pks: list[int]) -> dict[str, dict[str, int]]:
    """Read one account's roles and simulate what changed; the step's counts."""
    now = timezone.now()
    counts = {
        "roles": {"created": 0, "updated": 0, "unchanged": 0, "removed": 0},
        "simulations": {"created": 0, "unchanged": 0},
    }
    role_rows = list(ExecutionRole.objects.filter(pk__in=role_pks))
    account = AwsAccount.objects.filter(account_id=account_id, enabled=True).first()
    if account is None:
        message = f"Account {account_id} is not an enabled account of the portal: its roles cannot be read."
        for role in role_rows:
            role.read_error = message
        ExecutionRole.objects.bulk_update(role_rows, ["read_error"])
        counts["roles"]["removed"] += len(role_rows)
        return counts
    known_managed = {
        policy["arn"]: policy
        for role in role_rows
        for policy in [*role.attached, role.boundary or {}]
        if policy.get("aws_managed")
    }
    found, missing = reader.read_account(account.access, [r.arn for r in role_rows], known_managed)
    targets = targets_of([r.pk for r in role_rows])
    client = reader.iam_client(account.access)
    for role in role_rows:
        role.account = account
        if role.arn in missing:
            role.read_error = f"IAM in account {account_id} has no role {role.name}."
            role.evaluation, role.summary = None, {}
            counts["roles"]["removed"] += 1
            role.save()
            continue
        data = found[role.arn]
        digest = reader.policy_hash(data["policies"])
        fresh = not role.policy_hash
        if digest != role.policy_hash:
            role.policies, role.policy_hash, role.policies_changed_at = data["policies"], digest, now
            counts["roles"]["created" if fresh else "updated"] += 1
        else:
            counts["roles"]["unchanged"] += 1
        role.name, role.path, role.role_id = data["name"][:64], data["path"][:512], data["role_id"][:128]
        role.read_at, role.read_error = now, ""
        probe_list = probing.probe_set(targets.get(role.pk, []))
        key = probing.probe_key(probe_list)
        evaluation = ProbeEvaluation.objects.filter(role=role, policy_hash=digest, probe_key=key).first()
        if evaluation is None and probe_list:
            results, calls = simulate.simulate(client, role.arn, role.policies, probe_list)
            evaluation = ProbeEvaluation.objects.create(
                role=role,
                policy_hash=digest,
                probe_key=key,
                results=results,
                evaluated_at=timezone.now(),
                simulate_calls=calls,
            )
            counts["simulations"]["created"] += 1
        elif evaluation is not None:
            counts["simulations"]["unchanged"] += 1
        role.evaluation = evaluation
        role.summary = _summary(evaluation.results) if evaluation else {}
        role.save()
    return counts


def reread_roles(domain: Domain, arns: list[str]) -> None:
    """After a change set wrote these roles' policies: read them from IAM again and simulate their probes with what
    IAM now holds (registered with ``registry.add_rereader("role", ...)``); the governance evaluation that follows
    the change set then resolves the findings the new policy closes."""
    from iamaccess.checks import Reviewed

    by_account: dict[str, list[int]] = defaultdict(list)
    for pk, arn in ExecutionRole.objects.filter(arn__in=arns).values_list("pk", "arn"):
        by_account[roles.account_of(arn)].append(pk)
    for account_id, pks in by_account.items():
        review_account(account_id, pks)
    Reviewed.forget()


# -- the run -----------------------------------------------------------------------------------------------------
def run_review(run_id: int) -> None:
    run = TaskRun.objects.get(pk=run_id)
    domain_arn = (run.scope or {}).get("domain_arn")
    domains = list(Domain.objects.filter(removed_at__isnull=True).select_related("account").order_by("name"))
    if domain_arn:
        domains = [d for d in domains if d.arn == domain_arn]
    if not domains:
        runs.fail_run(run_id, "No domain to review: the inventory has none (sync first).")
        return
    involved = record_uses(domains)
    by_account: dict[str, list[int]] = defaultdict(list)
    serving = ExecutionRole.objects.filter(pk__in=involved, uses__isnull=False)
    for pk, arn in serving.values_list("pk", "arn").distinct():
        by_account[roles.account_of(arn)].append(pk)
    if not runs.plan(run_id, len(by_account) + 1, f"Reviewing the roles of {len(by_account)} account(s)"):
        return
    arns_of_account: dict[str, list[str]] = defaultdict(list)
    for domain in domains:
        arns_of_account[domain.account.account_id].append(domain.arn)
    for account_id in sorted(by_account):
        scope = f"roles of account {account_id}"
        with runs.recorded_step(run_id, scope, final_attempt=True) as calls:
            counts = review_account(account_id, by_account[account_id])
            runs.finish_step(
                run_id,
                scope=scope,
                counts=counts,
                calls=calls,
                message=f"Reviewed {len(by_account[account_id])} role(s) of account {account_id}",
                domain_arns=arns_of_account.get(account_id),
            )
    scope = "governance checks"
    with runs.recorded_step(run_id, scope, final_attempt=True):
        from governance import engine
        from iamaccess.checks import Reviewed

        Reviewed.forget()  # what the checks read changed: never reuse an earlier evaluation's copy

        outcome = engine.evaluate(domains)
        runs.finish_step(
            run_id,
            scope=scope,
            counts=outcome.counts(),
            message=(
                f"Checked {len(domains)} domain(s): {len(outcome.opened)} new finding(s), {outcome.resolved} resolved"
            ),
        )
