"""TG-02, registered with the governance checks (GOVERNANCE.md section 3): a domain whose legacy resources are not
all tagged with ``sagemaker:domain-arn``. The evidence is the domain's coverage counts.

The engine calls a check once per domain; the counts of every domain are read in one aggregate query per
evaluation (keyed by the evaluation's ``now``), so the statement count does not grow with the domains.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import Count

from backfill.models import LegacyResource
from portal.registry import Check, Evidence, Found

_memo: dict[str, Any] = {"now": None, "counts": {}, "unattributed": {}}


def _counts(now: datetime) -> tuple[dict[str, dict[str, int]], dict[tuple[str, str], int]]:
    if _memo["now"] != now:
        counts: dict[str, dict[str, int]] = {}
        unattributed: dict[tuple[str, str], int] = {}
        rows = (
            LegacyResource.objects.filter(removed_at__isnull=True)
            .values_list("domain_arn", "account_id", "region", "coverage")
            .annotate(n=Count("id"))
            .order_by()
        )
        for domain_arn, account_id, region, state, n in rows:
            if domain_arn:
                bucket = counts.setdefault(domain_arn, {})
                bucket[state] = bucket.get(state, 0) + n
            elif state == LegacyResource.Coverage.UNATTRIBUTABLE:
                unattributed[(account_id, region)] = unattributed.get((account_id, region), 0) + n
        _memo.update(now=now, counts=counts, unattributed=unattributed)
    return _memo["counts"], _memo["unattributed"]


def tg02_backfill(inv: Any) -> Iterator[Found]:
    domain = inv.domain
    counts, unattributed = _counts(inv.now)
    mine = counts.get(domain.arn, {})
    untagged = mine.get(LegacyResource.Coverage.ATTRIBUTABLE, 0)
    if not untagged:
        return
    _arn, _partition, _service, region, account_id, _rest = domain.arn.split(":", 5)
    nearby = unattributed.get((account_id, region), 0)
    evidence = (
        Evidence("untagged, attributable", untagged, "backfill discovery"),
        Evidence("tagged", mine.get(LegacyResource.Coverage.TAGGED, 0), "backfill discovery"),
        Evidence("excepted", mine.get(LegacyResource.Coverage.EXCEPTED, 0), "backfill discovery"),
        Evidence("unattributable in the account and region", nearby, "backfill discovery"),
    )
    yield Found(
        domain,
        "domain",
        f"{untagged} legacy resource(s) of this domain lack the sagemaker:domain-arn tag.",
        evidence,
    )


TG02 = Check(
    "TG-02",
    "Legacy resources without the domain tag",
    "medium",
    ("domain",),
    "https://docs.aws.amazon.com/sagemaker/latest/dg/domain-multiple-backfill.html",
    tg02_backfill,
    fix="Tag them with the tag backfill (Tag backfill page), or except them with a reason.",
)
