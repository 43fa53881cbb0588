"""A run's scope is a typed value stored as JSON; one active run per kind and scope, whatever the JSON's key order."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from costs.ingest import IngestionScope
from domains.sync import SyncScope, SyncScopeError
from portal import runs
from portal.models import TaskRun

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Ordered:
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return self.data


def test_a_second_start_for_the_same_scope_joins_the_active_run_whatever_the_key_order() -> None:
    first, created = runs.start_run("inventory_sync", Ordered({"account_id": "1", "region": "r"}), "a", trigger="user")
    second, again = runs.start_run("inventory_sync", Ordered({"region": "r", "account_id": "1"}), "a", trigger="user")
    assert created and not again and second.pk == first.pk
    other, created_other = runs.start_run("inventory_sync", Ordered({"account_id": "1"}), "b", trigger="user")
    assert created_other and other.pk != first.pk


def test_the_database_refuses_a_second_active_run_of_one_scope() -> None:
    TaskRun.objects.create(kind="inventory_sync", scope={"account_id": "1"}, scope_label="a", trigger="user")
    with pytest.raises(IntegrityError), transaction.atomic():
        TaskRun.objects.create(kind="inventory_sync", scope={"account_id": "1"}, scope_label="a", trigger="user")
    TaskRun.objects.create(kind="cost_ingestion", scope={"account_id": "1"}, scope_label="a", trigger="user")


def test_a_finished_run_does_not_hold_its_scope() -> None:
    run = TaskRun.objects.create(kind="inventory_sync", scope={}, scope_label="all", trigger="user")
    runs.fail_run(run.pk, "stopped")
    again, created = runs.start_run("inventory_sync", SyncScope(), "all", trigger="user")
    assert created and again.pk != run.pk


def test_sync_scopes_round_trip_through_json() -> None:
    for scope in (SyncScope(), SyncScope("111"), SyncScope("111", "eu-west-1"), SyncScope(domain_arn="arn:x/d-1")):
        assert SyncScope.from_json(scope.to_json()) == scope
    assert SyncScope("111", "eu-west-1").to_json() == {"account_id": "111", "region": "eu-west-1"}


def test_a_sync_scope_refuses_what_cannot_be_synced() -> None:
    with pytest.raises(SyncScopeError, match="region alone"):
        SyncScope(region="eu-west-1")
    with pytest.raises(SyncScopeError, match="Unknown"):
        SyncScope.from_json({"acount_id": "1"})


def test_ingestion_scopes_round_trip_through_json() -> None:
    scope = IngestionScope("111", date(2026, 1, 31))
    assert scope.to_json() == {"account_id": "111", "since": "2026-01-31"}
    assert IngestionScope.from_json(scope.to_json()) == scope
    assert IngestionScope.from_json({}) == IngestionScope()


def test_the_migration_turns_old_text_keys_into_scopes() -> None:
    migration = importlib.import_module("portal.migrations.0002_run_kinds_registered_and_scope_as_json")
    assert migration._scope_of("all") == {}
    assert migration._scope_of("account:111/region:eu-west-1") == {"account_id": "111", "region": "eu-west-1"}
    assert migration._scope_of("domain:arn:aws:sagemaker:us-east-1:111:domain/d-1") == {
        "domain_arn": "arn:aws:sagemaker:us-east-1:111:domain/d-1"
    }
    assert migration._scope_of("payer:111/since:2026-01-01") == {"account_id": "111", "since": "2026-01-01"}
