"""Services for task runs: start (or join) a run, add steps, finish steps with their outcome, close the run.

A run is split into steps (an account/region listing, a domain's members...) that workers finish in any order; the
worker that finishes the last step closes the run. Every update locks the row, so concurrent steps merge their
counts instead of overwriting each other.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal import audit
from portal.aws import CallTally, describe_error, is_retryable, tally
from portal.models import TaskRun
from portal.scoping import ALL_DOMAINS, VIEW, grants_for

logger = logging.getLogger(__name__)

# A step's calls as recorded: every HTTP attempt, the retried ones and the throttled ones, by "service:Operation".
StepCalls = CallTally


@contextlib.contextmanager
def recorded_step(run_id: int, scope: str, *, final_attempt: bool) -> Iterator[StepCalls]:
    """Do a step's work; a failure in it becomes the step's error on the run, with the calls it made.

    A retryable AWS error (throttling, 5xx, connection trouble) is raised again instead, unless this is the final
    attempt, so that the caller (a Celery retry, or :func:`portal.aws.with_retries`) tries the step again; the
    calls of the failed attempt are added to the run first, so that the run counts every attempt AWS saw. Pass
    the tally to :func:`finish_step` (``calls=``) when the step succeeds.
    """
    with tally() as calls:
        try:
            yield calls
        except Exception as exc:
            if is_retryable(exc) and not final_attempt:
                add_calls(run_id, calls)
                raise
            logger.warning(
                "Step %s of run %s failed: %s", scope, run_id, describe_error(exc), exc_info=not is_retryable(exc)
            )
            finish_step(run_id, scope=scope, error=describe_error(exc), calls=calls)
        finally:
            add_calls(run_id, calls)  # calls made after the step was finished (none, usually)


class RunScope(Protocol):
    """What a kind of run works on: a small frozen dataclass of the app that owns the kind, stored as JSON."""

    def to_json(self) -> dict[str, Any]: ...


def start_run(
    kind: str,
    scope: RunScope,
    scope_label: str,
    *,
    trigger: str,
    actor: AbstractBaseUser | None = None,
    domain_arns: list[str] | None = None,
    steps_total: int = 0,
) -> tuple[TaskRun, bool]:
    """A new queued run for this scope, or the queued/running one already there (``created`` is then False)."""
    data = scope.to_json()
    try:
        with transaction.atomic():
            run = TaskRun.objects.create(
                kind=kind,
                scope=data,
                scope_label=scope_label,
                trigger=trigger,
                started_by=actor,
                domain_arns=domain_arns or [],
                steps_total=steps_total,
            )
            return run, True
    except IntegrityError:
        key = TaskRun.key_of(data)
        existing = TaskRun.objects.filter(kind=kind, scope_key=key, status__in=TaskRun.ACTIVE).first()
        if existing is None:  # it finished between our insert and this read: try once more
            return start_run(
                kind,
                scope,
                scope_label,
                trigger=trigger,
                actor=actor,
                domain_arns=domain_arns,
                steps_total=steps_total,
            )
        return existing, False


def plan(run_id: int, steps: int, message: str = "") -> bool:
    """Set the first steps of a queued run and mark it running; False when the run was already planned (a
    redelivered task) or is over."""
    with transaction.atomic():
        run = TaskRun.objects.select_for_update().get(pk=run_id)
        if not run.is_active or run.steps_total:
            return False
        run.status, run.started_at = TaskRun.Status.RUNNING, timezone.now()
        run.steps_total = steps
        run.message = message[:500]
        run.save(update_fields=["status", "started_at", "steps_total", "message"])
        return True


def _merge_calls(run: TaskRun, fresh: Mapping[str, Mapping[str, int]]) -> list[str]:
    """Add a tally's fresh counts to the run; the names of the fields that changed."""
    changed = []
    for kind, field in (("calls", "aws_calls"), ("retried", "aws_retried"), ("throttled", "aws_throttled")):
        if not fresh.get(kind):
            continue
        into = getattr(run, field)
        for call, number in fresh[kind].items():
            into[call] = into.get(call, 0) + number
        changed.append(field)
    return changed


def add_calls(run_id: int, calls: CallTally) -> None:
    """Add the AWS calls counted since the tally's last take to the run: an attempt that failed and is tried
    again, or calls made after its step finished. AWS saw them (and Cost Explorer bills them), so the run counts
    them even when the step is over or the run closed."""
    fresh = calls.take()
    if not any(fresh.values()):
        return
    with transaction.atomic():
        run = TaskRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            return
        changed = _merge_calls(run, fresh)
        run.save(update_fields=changed)


def _merge_counts(into: dict[str, dict[str, int]], counts: Mapping[str, Mapping[str, int]]) -> None:
    for resource, outcomes in counts.items():
        bucket = into.setdefault(resource, {})
        for outcome, number in outcomes.items():
            bucket[outcome] = bucket.get(outcome, 0) + int(number)


def finish_step(
    run_id: int,
    *,
    scope: str,
    counts: Mapping[str, Mapping[str, int]] | None = None,
    aws_calls: Mapping[str, int] | None = None,
    calls: CallTally | None = None,
    error: str | None = None,
    message: str = "",
    new_steps: int = 0,
    domain_arns: list[str] | None = None,
    note: str = "",
) -> TaskRun:
    """Record one finished step, and the ``new_steps`` it found to do next; the step that completes the run closes
    it and writes the audit summary. A step finished twice (a redelivered task) counts once, but the AWS calls it
    made count (``calls``: the step's tally, every attempt since its last take; ``aws_calls``: plain counts)."""
    fresh = calls.take() if calls is not None else {}
    if aws_calls:
        fresh["calls"] = dict(Counter(fresh.get("calls", {})) + Counter(aws_calls))
    with transaction.atomic():
        run = TaskRun.objects.select_for_update().get(pk=run_id)
        if scope in run.finished_steps or not run.is_active:
            # A redelivered or late step: its outcome is already counted, the calls it made are not.
            changed = _merge_calls(run, fresh)
            if changed:
                run.save(update_fields=changed)
            return run
        run.finished_steps.append(scope)
        run.steps_total += new_steps
        if domain_arns:
            run.domain_arns = sorted(set(run.domain_arns) | set(domain_arns))
        if counts:
            _merge_counts(run.counts, counts)
        _merge_calls(run, fresh)
        if note:
            run.notes.append(note[:1000])
        if error:
            run.errors.append({"scope": scope, "message": error[:2000], "at": timezone.now().isoformat()})
        run.steps_done += 1
        run.message = (message or f"Finished {scope}")[:500]
        if run.status == TaskRun.Status.QUEUED:
            run.status, run.started_at = TaskRun.Status.RUNNING, timezone.now()
        if run.steps_done >= run.steps_total:
            _close(run)
        run.save()
        return run


def fail_run(run_id: int, message: str) -> None:
    """Close a run that could not go on at all (e.g. its account was deleted)."""
    with transaction.atomic():
        run = TaskRun.objects.select_for_update().get(pk=run_id)
        if not run.is_active:
            return
        run.errors.append({"scope": run.scope_label, "message": message[:2000], "at": timezone.now().isoformat()})
        run.steps_done = run.steps_total
        _close(run)
        run.save()


def _close(run: TaskRun) -> None:
    if run.errors and not any(run.counts.values()):
        run.status = TaskRun.Status.FAILED
    elif run.errors:
        run.status = TaskRun.Status.PARTIAL
    else:
        run.status = TaskRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.message = f"{run.get_status_display()}: {summary_text(run)}"[:500]
    audit.record(
        f"{run.kind}.finished",
        run,
        actor=run.started_by or f"{run.get_trigger_display().lower()}",
        domain_arn=run.domain_arns[0] if len(run.domain_arns) == 1 else "",
        after={
            "status": run.status,
            "scope": run.scope,
            "counts": run.counts,
            "aws_calls": sum(run.aws_calls.values()),
            "aws_retried": run.aws_retried_total,
            "aws_throttled": run.aws_throttled_total,
            "errors": len(run.errors),
        },
    )


def summary_text(run: TaskRun) -> str:
    parts = [f"{run.total(o)} {o}" for o in ("created", "updated", "removed", "unchanged")]
    text = ", ".join(parts) + f"; {sum(run.aws_calls.values())} AWS calls"
    if run.aws_retried or run.aws_throttled:
        text += f" ({run.aws_retried_total} retried, {run.aws_throttled_total} throttled)"
    if run.errors:
        text += f"; {len(run.errors)} error(s)"
    return text


def seen_by(run: TaskRun, user: AbstractBaseUser) -> TaskRun:
    """The run as ``user`` may read it (for display only, never saved).

    A run is listed for the people of every domain it read, but its message, notes and errors name those domains;
    someone who does not see all of them (a lead of one domain looking at a sync of every account) gets them
    replaced by what they may know: the status, the counts and how many errors there were.
    """
    grants = grants_for(user)
    if grants.is_admin or (run.started_by_id is not None and run.started_by_id == getattr(user, "pk", None)):
        return run
    visible = grants.domains_for(VIEW)
    read = set(run.domain_arns)
    if run.scope.get("domain_arn"):
        read.add(run.scope["domain_arn"])
    if visible is ALL_DOMAINS or (read and read <= visible):
        return run
    run.message = f"{run.get_status_display()}: {summary_text(run)}"
    run.notes = []
    hidden = "Details are shown to the platform admins (this run also read domains you do not see)."
    run.errors = [{"scope": "a domain of this run", "message": hidden, "at": e.get("at", "")} for e in run.errors]
    return run
