"""``last_changed`` moves only when a sync finds a resource different from what was stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from domains.models import Domain
from domains.upsert import upsert_by_arn
from tests.factories import DomainFactory

pytestmark = pytest.mark.django_db


def test_an_unchanged_resource_keeps_its_last_changed_time() -> None:
    earlier = timezone.now() - timedelta(days=3)
    domain = DomainFactory(last_changed=earlier)
    result = upsert_by_arn(Domain, [domain], described={}, listed=[domain.arn], now=timezone.now(), complete=True)
    domain.refresh_from_db()
    assert result.unchanged == 1
    assert domain.last_changed == earlier


def test_a_changed_resource_gets_the_sync_time_as_last_changed() -> None:
    domain = DomainFactory(last_changed=timezone.now() - timedelta(days=3))
    now = timezone.now()
    result = upsert_by_arn(
        Domain, [domain], described={domain.arn: {"status": "Updating"}}, listed=[domain.arn], now=now, complete=True
    )
    domain.refresh_from_db()
    assert result.updated == 1
    assert (domain.status, domain.last_changed) == ("Updating", now)
