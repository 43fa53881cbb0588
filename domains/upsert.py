"""Bulk upsert of synced resources by ARN, writing only the rows whose data changed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    objects: dict[str, Any] = field(default_factory=dict)  # arn -> model instance, for linking foreign keys
    changed: list[str] = field(default_factory=list)  # ARNs created, updated or marked removed

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "removed": self.removed, "unchanged": self.unchanged}


def upsert_by_arn(
    model: type[models.Model],
    existing: Iterable[Any],
    *,
    described: Mapping[str, dict[str, Any]],
    listed: Iterable[str],
    now: datetime,
    complete: bool,
    batch_size: int = 500,
) -> UpsertResult:
    """Create what is new, update what changed, mark removed what a completed listing no longer shows.

    ``listed`` is every ARN the listing returned; ``described`` holds fresh field values for the ones that were
    described (new or changed). A listed ARN without fresh values is unchanged unless it had been marked removed.
    Nothing is ever deleted; ``complete=False`` (a listing that did not finish) marks nothing removed.
    """
    result = UpsertResult()
    current = {obj.arn: obj for obj in existing}
    listed_set = set(listed)
    to_create: list[Any] = []
    to_update: list[Any] = []
    changed_fields: set[str] = set()

    for arn in listed_set:
        obj = current.get(arn)
        values = described.get(arn)
        if obj is None:
            if values is None:
                continue  # listed but not described (it vanished in between): the next sync picks it up
            obj = model(arn=arn, first_seen=now, last_changed=now, **values)
            to_create.append(obj)
            result.objects[arn] = obj
            continue
        result.objects[arn] = obj
        diff = {name: value for name, value in (values or {}).items() if getattr(obj, name) != value}
        if obj.removed_at is not None:
            diff["removed_at"] = None
        if diff:
            for name, value in diff.items():
                setattr(obj, name, value)
            obj.last_changed = now
            changed_fields.update(diff)
            changed_fields.add("last_changed")
            to_update.append(obj)
        else:
            result.unchanged += 1

    to_remove = []
    if complete:
        for arn, obj in current.items():
            if arn not in listed_set and obj.removed_at is None:
                obj.removed_at = now
                to_remove.append(obj)

    if to_create:
        model.objects.bulk_create(to_create, batch_size=batch_size)
    if to_update:
        model.objects.bulk_update(to_update, sorted(changed_fields), batch_size=batch_size)
    if to_remove:
        model.objects.filter(pk__in=[obj.pk for obj in to_remove]).update(removed_at=now)
    result.created, result.updated, result.removed = len(to_create), len(to_update), len(to_remove)
    result.changed = [obj.arn for obj in (*to_create, *to_update, *to_remove)]
    return result


def jsonable(value: Any) -> Any:
    """A describe answer made storable as JSON: datetimes as ISO text, response metadata dropped."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
