"""The queryset every scoped model uses; see :mod:`portal.scoping` for who may do what."""

from __future__ import annotations

from typing import Any

from django.db import models

from portal.scoping import grants_for


class RestrictedQuerySet(models.QuerySet):
    """``restrict(user, action)``: only the rows ``user`` may act on; the model's ``scope_q`` decides."""

    def restrict(self, user: Any, action: str = "view") -> RestrictedQuerySet:
        grants = grants_for(user)
        if not grants.authenticated:
            return self.none()
        if grants.is_admin:
            return self
        condition = self.model.scope_q(grants, action)
        if condition is None:
            return self.none()
        return self.filter(condition)
