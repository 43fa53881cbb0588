"""After a change set is applied: its domain evaluated whole, and how the fix ended noted on each finding.

The engine already re-evaluates what the re-read stored (:data:`domains.signals.resources_changed`, reaching the
whole domain when the domain's defaults changed, and a profile's private spaces). :func:`on_change_set_applied`
evaluates the domain once more after the last call (its calls may have touched the domain first and a profile after
it), then records on each finding it was proposed for whether the fix closed it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from domains.models import Domain
from governance import engine
from governance.models import Finding, FindingEvent, FindingFix

logger = logging.getLogger(__name__)


def _evaluate(domain: Domain, only_arns: set[str] | None, why: str) -> None:
    try:
        with transaction.atomic():
            engine.evaluate([domain], only_arns=only_arns)
    except Exception:
        logger.exception("Posture evaluation of %s (%s) failed; the next scheduled check retries.", domain, why)


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
