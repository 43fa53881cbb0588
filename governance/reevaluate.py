"""What a change reaches beyond the resource that changed, so that the findings it closed resolve.

The engine re-evaluates the resources the inventory writers stored anew (:data:`domains.signals.resources_changed`).
But effective settings flow down: a domain's defaults are every profile's and shared space's settings unless they
override them, and a profile's settings are its private spaces'. So when UpdateDomain turns idle shutdown on, the
CO-01 findings of the profiles that follow the default must be evaluated again too, though AWS changed none of them
(and the next sync does not describe them again: their LastModifiedTime did not move).

- :func:`on_resources_changed`: a changed domain re-evaluates the whole domain; a changed profile its private spaces.
- :func:`on_change_set_applied`: after a change set's re-read, the whole domain once more (its calls may have touched
  the domain first and a profile after it), then each finding it was proposed for records how the fix ended.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from domains.models import Domain
from governance import engine
from governance.models import Finding, FindingEvent, FindingFix
from profiles.models import Space

logger = logging.getLogger(__name__)


def _evaluate(domain: Domain, only_arns: set[str] | None, why: str) -> None:
    try:
        with transaction.atomic():
            engine.evaluate([domain], only_arns=only_arns)
    except Exception:
        logger.exception("Posture evaluation of %s (%s) failed; the next scheduled check retries.", domain, why)


def reached_by(domain: Domain, arns: set[str]) -> set[str] | None:
    """The resources whose effective settings these changed resources decide: None for the whole domain."""
    if domain.arn in arns:
        return None
    spaces = Space.objects.filter(
        domain=domain, removed_at__isnull=True, sharing_type="Private", owner_profile__arn__in=arns
    ).values_list("arn", flat=True)
    return set(arns) | set(spaces)


def on_resources_changed(sender: Any, *, domain_pk: int, arns: list[str], **kwargs: Any) -> None:
    """Receiver of :data:`domains.signals.resources_changed`, beside the engine's own: the resources below the
    changed ones. Nothing more to do when no other resource depends on them."""
    if not arns:
        return
    domain = Domain.objects.select_related("account").filter(pk=domain_pk, removed_at__isnull=True).first()
    if domain is None:
        return
    reached = reached_by(domain, set(arns))
    if reached is None or reached != set(arns):
        _evaluate(domain, reached, "what a change reached")


def on_change_set_applied(sender: Any, *, change_set: Any, finding_ids: list[Any], **kwargs: Any) -> None:
    """Receiver of :data:`changesets.signals.change_set_applied`: evaluate the domain with what the re-read stored,
    then note on each finding the change set was proposed for whether the fix closed it."""
    domain = Domain.objects.select_related("account").filter(pk=change_set.domain_id, removed_at__isnull=True).first()
    if domain is not None:
        _evaluate(domain, None, f"after {change_set.ref}")
    links = FindingFix.objects.filter(change_set_id=change_set.pk).select_related("finding")
    now = timezone.now()
    events = []
    for link in links:
        finding = link.finding
        if finding.status == Finding.Status.RESOLVED:
            note = f"{change_set.ref} applied; the finding is resolved."
        else:
            note = f"{change_set.ref} applied, but the finding is still {finding.get_status_display().lower()}: "
            note += "the next sync or posture check looks again."
        events.append(
            FindingEvent(finding=finding, at=now, event="fix applied", status=finding.status, note=note[:1000])
        )
    FindingEvent.objects.bulk_create(events)
