"""Discovery and attribution against the sandbox: every legacy resource of the demo found once, attributed to the
domain (and by the rule) the sandbox's manifest expects, the unattributable ones left so with why."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from backfill import discovery
from backfill.models import LegacyResource
from portal.models import TaskRun
from tests.backfill.conftest import DEMO_LEGACY, add_manifest_rules

pytestmark = pytest.mark.django_db


def test_attribution_matches_the_manifest_for_the_demos_300_resources(legacy_world: dict[str, Any]) -> None:
    manifest = legacy_world
    add_manifest_rules(manifest)
    run, created = discovery.start_discovery(trigger=TaskRun.Trigger.COMMAND, inline=True)
    assert created and run.status == TaskRun.Status.SUCCEEDED, run.errors
    found = {r.arn: r for r in LegacyResource.objects.filter(arn__in=list(manifest["resources"]))}
    assert len(found) == DEMO_LEGACY
    wrong = []
    for arn, expected in manifest["resources"].items():
        row = found[arn]
        assert row.resource_type == expected["type"], arn
        got = (row.domain_arn or None, row.rule or "unattributed")
        if got != (expected["domain"], expected["rule"]):
            wrong.append((arn, got, (expected["domain"], expected["rule"]), row.why_unattributed))
    assert not wrong, wrong[:10]
    rules = Counter(r.rule or "unattributed" for r in found.values())
    assert set(rules) == {*(r.value for r in LegacyResource.Rule if r.value), "unattributed"}
    for row in found.values():
        if row.domain_arn:
            assert row.evidence and not row.why_unattributed
        else:
            assert row.coverage == "unattributable" and row.why_unattributed.startswith("Unattributed: ")
