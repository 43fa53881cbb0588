"""Every write through the Django admin leaves an audit event, like every write through the portal's services.

The admin site (:class:`AuditedAdminSite`, the project's default site) mixes :class:`AuditedModelAdminMixin` into
every ModelAdmin registered on it, the portal's and other packages' alike (users, API tokens, Celery periodic tasks,
login lockouts): additions, changes, deletions and admin actions are recorded in the transaction of the change,
with the fields that changed before and after. Secrets (password hashes, token keys) are never copied into the
log: they appear as a short fingerprint, enough to see that they changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.http import HttpRequest

from portal import audit

SECRET_FIELD_NAMES = ("password", "key", "secret", "token")
MAX_AUDITED_PER_ACTION = 500


def _is_secret(name: str) -> bool:
    return any(part in name.lower() for part in SECRET_FIELD_NAMES)


def snapshot(obj: models.Model) -> dict[str, Any]:
    """The object's fields (many-to-many as sorted ids), JSON-safe, secrets as fingerprints."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        data[field.attname] = field.value_from_object(obj)
    if obj.pk is not None:
        for field in obj._meta.many_to_many:
            data[field.name] = sorted(str(related.pk) for related in field.value_from_object(obj))
    for name, value in data.items():
        if _is_secret(name) and value not in (None, ""):
            data[name] = "hidden:" + hashlib.sha256(str(value).encode()).hexdigest()[:8]
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def _reload(obj: models.Model) -> models.Model | None:
    """The stored row (by the primary key column: a proxy such as DRF's TokenProxy may redefine ``pk``)."""
    key = getattr(obj, obj._meta.pk.attname)
    return type(obj)._default_manager.filter(**{obj._meta.pk.attname: key}).first() if key is not None else None


class AuditedModelAdminMixin:
    """Records each admin write as ``admin.added``, ``admin.changed``, ``admin.deleted`` or ``admin.<action>``."""

    def _record(
        self, request: HttpRequest, action: str, obj: models.Model, *, before: Any = None, after: Any = None
    ) -> None:
        audit.record(f"admin.{action}", obj, actor=request.user, before=before, after=after)

    def save_model(self, request: HttpRequest, obj: models.Model, form: Any, change: bool) -> None:
        if change:
            stored = _reload(obj)
            if stored is not None:
                befores = request.__dict__.setdefault("_admin_audit_before", {})
                befores[(obj._meta.label, str(obj.pk))] = snapshot(stored)
        super().save_model(request, obj, form, change)  # type: ignore[misc]

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        """The admin's password form (UserAdmin) saves without save_model: keep the before here."""
        if request.method == "POST":
            stored = self.model._default_manager.filter(pk=unquote(id)).first()  # type: ignore[attr-defined]
            if stored is not None:
                befores = request.__dict__.setdefault("_admin_audit_before", {})
                befores[(stored._meta.label, str(stored.pk))] = snapshot(stored)
        return super().user_change_password(request, id, form_url)  # type: ignore[misc]

    def log_addition(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        entry = super().log_addition(request, obj, message)  # type: ignore[misc]
        self._record(request, "added", obj, after=snapshot(obj))
        return entry

    def log_change(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        entry = super().log_change(request, obj, message)  # type: ignore[misc]
        stored = request.__dict__.get("_admin_audit_before", {}).pop((obj._meta.label, str(obj.pk)), None)
        after = snapshot(_reload(obj) or obj)  # many-to-many changes are saved by now
        before, after = changed(stored, after) if stored is not None else (None, after)
        self._record(request, "changed", obj, before=before, after=after)
        return entry

    def log_deletions(self, request: HttpRequest, queryset: Iterable[models.Model]) -> Any:
        objects = list(queryset)
        entries = super().log_deletions(request, objects)  # type: ignore[misc]
        for obj in objects:
            self._record(request, "deleted", obj, before=snapshot(obj))
        return entries

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with transaction.atomic(using=queryset.db):  # the bulk delete and its audit events commit together
            super().delete_queryset(request, queryset)  # type: ignore[misc]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        audited = {}
        for name, (func, action_name, description) in actions.items():
            # delete_selected already goes through log_deletions and delete_queryset.
            wrapped = func if name == "delete_selected" else self._audited_action(func, name)
            audited[name] = (wrapped, action_name, description)
        return audited

    def _audited_action(self, func: Callable[..., Any], name: str) -> Callable[..., Any]:
        """An admin action (enable tasks, run tasks...) with one audit event per selected object, written in the
        action's transaction, with what it changed."""

        @wraps(func)
        def run(modeladmin: Any, request: HttpRequest, queryset: Any) -> Any:
            with transaction.atomic(using=queryset.db):
                selected = list(queryset[:MAX_AUDITED_PER_ACTION])
                befores = {obj.pk: snapshot(obj) for obj in selected}
                response = func(modeladmin, request, queryset)
                current = {obj.pk: obj for obj in queryset.model._default_manager.filter(pk__in=list(befores))}
                for obj in selected:
                    after_obj = current.get(obj.pk)
                    if after_obj is None:
                        self._record(request, name, obj, before=befores[obj.pk], after=None)
                        continue
                    before, after = changed(befores[obj.pk], snapshot(after_obj))
                    self._record(request, name, after_obj, before=before or None, after=after or None)
            return response

        return run


WRITES = {
    "admin.added": "Added in the admin",
    "admin.changed": "Changed in the admin",
    "admin.deleted": "Deleted in the admin",
}


def audit_actions_of(site: admin.AdminSite) -> dict[str, str]:
    """The audit actions the admin site writes: its three kinds of write and ``admin.<action>`` for every admin
    action of a registered model (known once the admin has been autodiscovered)."""
    actions = dict(WRITES)
    for model_admin in site._registry.values():
        for _func, name, description in model_admin._get_base_actions():
            if name != "delete_selected":
                actions[f"admin.{name}"] = (
                    f"Admin action: {str(description).replace('%(verbose_name_plural)s', 'objects')}"
                )
    return actions


class AuditedAdminSite(admin.AdminSite):
    """The project's admin site: whatever registers a model here gets its writes audited."""

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        base = admin_class or admin.ModelAdmin
        if not issubclass(base, AuditedModelAdminMixin):
            base = type(f"Audited{base.__name__}", (AuditedModelAdminMixin, base), {"__module__": base.__module__})
        super().register(model_or_iterable, base, **options)
