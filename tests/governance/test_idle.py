"""Idle compliance's figures (governance/idle.py) from crafted rows: shares of effective idle shutdown, the idle
apps as check CO-04 decides them, their hours and cost at the price table's prices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from governance import engine, idle
from governance.models import GovernancePolicy
from portal.sorting import Sorting
from tests.governance.pages_world import PagesWorld, build

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> PagesWorld:
    return build()


def rows(report: idle.IdleReport) -> dict[str, idle.DomainIdle]:
    return {r.domain.name: r for r in report.domains}


def test_shares_follow_the_effective_idle_shutdown_of_profiles_and_spaces(world: PagesWorld) -> None:
    report = idle.report(world.users["approver"], [world.research, world.payments], now=world.now)
    research, payments = rows(report)["research"], rows(report)["payments"]
    # ana (domain defaults on) counts; ben (JupyterLab off) and cleo (Code Editor off) do not; a removed one is out.
    assert research.profiles == idle.Share(1, 3) and research.profiles.percent == 33.3
    # ana-lab (its owner's defaults: on) and cleo-lab (cleo's JupyterLab: on) count; ben-lab (owner off), cleo-code
    # (cleo's Code Editor off) and the shared team space (no DefaultSpaceSettings: AWS's default, off) do not.
    assert research.spaces == idle.Share(2, 5) and research.spaces.percent == 40.0
    assert payments.profiles == idle.Share(1, 1) and payments.spaces == idle.Share(1, 1)
    assert report.profiles == idle.Share(2, 4) and report.spaces == idle.Share(3, 6)
    assert idle.Share().percent is None


def test_idle_apps_are_what_co04_flags_with_hours_and_cost(world: PagesWorld) -> None:
    report = idle.report(world.users["approver"], [world.research, world.payments], now=world.now)
    found = {a.app.name: a for a in report.apps}
    assert set(found) == {"gpu-kernel", "team-lab", "big-memory", "eu-lab"}  # not busy, pending, system, elsewhere
    gpu, cpu, unpriced, eu = found["gpu-kernel"], found["team-lab"], found["big-memory"], found["eu-lab"]
    assert (gpu.hours_idle, gpu.hourly, gpu.cost, gpu.severity) == (50, Decimal("1.4080"), Decimal("70.40"), "high")
    assert gpu.idle_since_source == "DescribeApp LastUserActivityTimestamp" and gpu.threshold_hours == 24
    assert (cpu.hours_idle, cpu.cost, cpu.severity) == (30, Decimal("1.50"), "medium")
    assert cpu.idle_since_source == "DescribeApp CreationTime (no user signal)"
    assert (unpriced.hours_idle, unpriced.hourly, unpriced.cost) == (48, None, None)
    assert (eu.hourly, eu.cost) == (Decimal("0.0555"), Decimal("2.22"))  # eu-west-1: 0.05 x 1.11, 40 hours
    research, payments = rows(report)["research"], rows(report)["payments"]
    assert (research.idle_apps, research.idle_cost, research.unpriced_apps) == (3, Decimal("71.90"), 1)
    assert (payments.idle_apps, payments.idle_cost) == (1, Decimal("2.22"))
    assert report.idle_cost == Decimal("74.12") and report.unpriced_apps == 1
    # The most expensive first; the unpriced one last.
    assert [a.app.name for a in report.apps] == ["gpu-kernel", "eu-lab", "team-lab", "big-memory"]


def test_the_domain_policy_sets_the_threshold(world: PagesWorld) -> None:
    GovernancePolicy.objects.create(domain=world.research, app_idle_hours=49)
    report = idle.report(world.users["approver"], [world.research], now=world.now)
    assert {a.app.name for a in report.apps} == {"gpu-kernel"}  # 50 h; the 30 h and 48 h ones are within 49
    assert report.apps[0].threshold_hours == 49


def test_the_apps_link_to_their_co04_finding_once_recorded(world: PagesWorld) -> None:
    report = idle.report(world.users["approver"], [world.research], now=world.now)
    assert all(a.finding_id is None for a in report.apps)
    engine.evaluate([world.research], now=world.now)
    report = idle.report(world.users["approver"], [world.research], now=world.now)
    assert {a.app.name for a in report.apps if a.finding_id} == {"gpu-kernel", "team-lab", "big-memory"}


@pytest.mark.parametrize(
    ("sort", "names"),
    [
        (None, ["gpu-kernel", "eu-lab", "team-lab", "big-memory"]),
        ("cost", ["team-lab", "eu-lab", "gpu-kernel", "big-memory"]),
        ("-hours", ["gpu-kernel", "big-memory", "eu-lab", "team-lab"]),
        ("hours", ["team-lab", "eu-lab", "big-memory", "gpu-kernel"]),
        ("domain", ["eu-lab", "gpu-kernel", "big-memory", "team-lab"]),  # payments; research's by ARN (ana, ben, team)
        ("unknown", ["gpu-kernel", "eu-lab", "team-lab", "big-memory"]),
    ],
)
def test_sorting(world: PagesWorld, sort: str | None, names: list[str]) -> None:
    report = idle.report(world.users["approver"], [world.research, world.payments], now=world.now, sort=sort)
    assert [a.app.name for a in report.apps] == names


def test_a_data_scientist_sees_their_own_share(world: PagesWorld) -> None:
    report = idle.report(world.users["scientist"], [world.research], now=world.now)
    research = rows(report)["research"]
    assert research.profiles == idle.Share(1, 1)  # ana, their own
    assert research.spaces == idle.Share(1, 2)  # ana-lab (on) and the shared team space they own (off)
    assert {a.app.name for a in report.apps} == {"gpu-kernel", "team-lab"}  # on their profile and their space


def test_nothing_for_no_domain(world: PagesWorld) -> None:
    report = idle.report(world.users["approver"], [])
    assert report.domains == [] and report.apps == [] and report.idle_cost == 0
    assert isinstance(report.sorting, Sorting)


def test_the_report_reads_a_fixed_number_of_statements(world: PagesWorld, django_assert_num_queries: Any) -> None:
    user = world.users["approver"]
    idle.report(user, [world.research])  # loads the person's grants
    # policies, profiles, spaces (with owners), apps, the idle apps' findings
    with django_assert_num_queries(5):
        idle.report(user, [world.research, world.payments])
