"""Grants are loaded once per user object (once per request) and every restrict() reads them from there."""

from __future__ import annotations

from typing import Any

import pytest

from domains.models import Domain
from portal.models import AuditEvent, TaskRun
from portal.scoping import Grants, Role, grants_for
from tests.factories import DomainFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


def test_restrict_loads_a_persons_grants_once_for_every_model(django_assert_num_queries: Any) -> None:
    domain = DomainFactory()
    user = UserFactory(username="approver")
    grant(user, "domain_approver", domain)
    fresh = type(user).objects.get(pk=user.pk)  # a new request's user object
    with django_assert_num_queries(1):
        Domain.objects.restrict(fresh)
        TaskRun.objects.restrict(fresh)
        AuditEvent.objects.restrict(fresh, "view")
    assert list(Domain.objects.restrict(fresh)) == [domain]


def test_grants_can_be_built_from_pairs_without_the_database(django_assert_num_queries: Any) -> None:
    user = UserFactory(username="lead")
    with django_assert_num_queries(0):
        grants = Grants(user, [(Role.TEAM_LEAD, "arn:d1")])
        assert grants.allows("request_space", "arn:d1") and not grants.allows("approve", "arn:d1")
    assert grants_for(user) is grants_for(user)
