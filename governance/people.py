"""The findings column of the people directory: open findings on each person's profiles, spaces and apps."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import Count, Q

from governance.models import Finding
from portal.scoping import VIEW
from profiles.models import App, Space, UserProfile


def open_findings(request: Any, person_ids: list[int]) -> dict[int, int]:
    """How many open findings ``request.user`` may see on each person's resources, in four queries."""
    if not person_ids:
        return {}
    owner: dict[str, int] = dict(UserProfile.objects.filter(person_id__in=person_ids).values_list("arn", "person_id"))
    owner.update(
        Space.objects.filter(owner_profile__person_id__in=person_ids).values_list("arn", "owner_profile__person_id")
    )
    owner.update(
        App.objects.filter(user_profile__person_id__in=person_ids).values_list("arn", "user_profile__person_id")
    )
    if not owner:
        return {}
    counts: Counter[int] = Counter()
    rows = (
        Finding.objects.restrict(request.user, VIEW)
        .filter(Q(status=Finding.Status.OPEN), resource_arn__in=list(owner))
        .values("resource_arn")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        counts[owner[row["resource_arn"]]] += row["n"]
    return dict(counts)
