"""The spend column of the people directory: each person's spend this month, over all their profiles."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from costs.models import SpendRollup
from portal.scoping import VIEW


def spend_this_month(request: Any, person_ids: list[int]) -> dict[int, str]:
    """Month-to-date spend of each person's profiles that ``request.user`` may read, in one query."""
    if not person_ids:
        return {}
    rows = (
        SpendRollup.objects.restrict(request.user, VIEW)
        .filter(
            period=SpendRollup.Period.MONTH,
            start=date.today().replace(day=1),
            level=SpendRollup.Level.PROFILE,
            user_profile__person_id__in=person_ids,
        )
        .values("user_profile__person_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {row["user_profile__person_id"]: f"${Decimal(row['total']).quantize(Decimal('0.01')):,}" for row in rows}
