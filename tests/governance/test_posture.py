"""The overview's figures (governance/posture.py) and its charts (governance/charts.py), from crafted rows."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from governance import posture
from governance.charts import Series, line_chart, nice_ceiling
from tests.governance.pages_world import PagesWorld, build, finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> PagesWorld:
    return build()


def by_name(result: posture.Overview) -> dict[str, posture.DomainPosture]:
    return {d.domain.name: d for d in result.domains}


def test_an_approver_sees_each_domains_live_counts_trend_and_classic_tracker(world: PagesWorld) -> None:
    result = posture.overview(world.users["approver"], [world.research, world.payments], today=world.today)
    research, payments = by_name(result)["research"], by_name(result)["payments"]
    assert (research.open_high, research.open_medium, research.open_low, research.accepted) == (2, 1, 1, 1)
    assert (payments.open_high, payments.open_medium, payments.open_low, payments.accepted) == (0, 1, 0, 0)
    assert result.totals == {"high": 2, "medium": 2, "low": 1, "accepted": 1}
    # The window is 90 days ending today: the snapshot of day -120 is outside, day -89 is its first day.
    assert result.start == world.today - timedelta(days=89) and result.days == 90
    assert [p.day for p in research.trend] == [world.today - timedelta(days=d) for d in (89, 10, 0)]
    assert [(p.high, p.medium, p.low) for p in research.trend] == [(5, 4, 2), (3, 2, 1), (2, 1, 1)]
    # Classic tracker: from 6 profiles / 3 apps on the first day to 1 / 0 today.
    assert (research.latest.classic_profiles, research.latest.classic_apps_running) == (1, 0)
    assert (research.classic_profiles_change, research.classic_apps_change) == (-5, -3)
    assert not research.classic_retired and payments.classic_retired
    assert result.classic_totals == {"profiles": 1, "apps_running": 0}
    assert research.wide and payments.wide


def test_the_top_findings_are_open_ones_highest_severity_then_oldest_first(world: PagesWorld) -> None:
    result = posture.overview(world.users["approver"], [world.research, world.payments], today=world.today)
    f = world.findings
    expected = [f["high-old"], f["high-sci"], f["medium"], f["payments"], f["low"]]
    assert [x.pk for x in result.top_findings] == [x.pk for x in expected]  # no accepted, resolved or outsider's
    for n in range(posture.TOP_FINDINGS + 3):
        finding(world.research, f"more{n}", "high", days_old=n)
    result = posture.overview(world.users["approver"], [world.research], today=world.today)
    assert len(result.top_findings) == posture.TOP_FINDINGS
    assert all(x.severity == "high" for x in result.top_findings)
    assert result.top_findings[0].pk == f["high-old"].pk  # 30 days old: older than every new one (0-12 days)


def test_a_data_scientist_sees_only_their_own_findings_and_no_domain_trend(world: PagesWorld) -> None:
    result = posture.overview(world.users["scientist"], [world.research], today=world.today)
    research = by_name(result)["research"]
    assert not research.wide and research.trend == []
    assert (research.open_high, research.open_medium, research.open_low, research.accepted) == (1, 0, 0, 0)
    assert [x.pk for x in result.top_findings] == [world.findings["high-sci"].pk]
    assert result.wide_domains == []


def test_a_team_lead_reads_the_domains_posture(world: PagesWorld) -> None:
    research = by_name(posture.overview(world.users["lead"], [world.research], today=world.today))["research"]
    assert research.wide and (research.open_high, research.open_medium) == (2, 1) and len(research.trend) == 3


def test_no_domain_and_no_snapshot(world: PagesWorld) -> None:
    assert posture.overview(world.users["nobody"], []).domains == []
    fresh = posture.overview(world.users["approver"], [world.research], today=world.today - timedelta(days=200))
    assert fresh.domains[0].trend == [] and not fresh.has_snapshots and fresh.domains[0].latest is None
    assert fresh.domains[0].classic_profiles_change is None and not fresh.domains[0].classic_retired


def test_the_overview_reads_a_fixed_number_of_statements(world: PagesWorld, django_assert_num_queries: Any) -> None:
    user = world.users["approver"]
    posture.overview(user, [world.research])  # loads the person's grants
    with django_assert_num_queries(3):  # counts, snapshots, top findings
        posture.overview(user, [world.research, world.payments])


def test_schedule_hours_reads_the_beat_schedule(settings: Any) -> None:
    settings.CELERY_BEAT_SCHEDULE = {posture.POSTURE_SCHEDULE_ENTRY: {"task": "x", "schedule": 3600 * 6}}
    assert posture.schedule_hours() == 6
    settings.CELERY_BEAT_SCHEDULE = {}
    assert posture.schedule_hours() is None


# -- charts -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "top", "step"),
    [(0, 1, 1), (1, 1, 1), (3, 3, 1), (4, 4, 1), (5, 6, 2), (7, 8, 2), (9, 10, 5), (45, 60, 20), (120, 150, 50)],
)
def test_nice_ceiling(value: int, top: int, step: int) -> None:
    assert nice_ceiling(value) == (top, step)


def test_a_line_chart_places_each_day_and_value() -> None:
    start = date(2026, 1, 1)
    end = start + timedelta(days=10)
    values = {start: 0, start + timedelta(days=1): 4, start + timedelta(days=10): 2}
    chart = line_chart([Series("High", "sev-high", values)], start, end, width=140, height=104)
    # plot: x from 36 to 132 (96 wide, 9.6 a day), y from 10 (value 4) down to 80 (value 0).
    line = chart.lines[0]
    assert line.segments == ["36.0,80.0 45.6,10.0"]  # day 10 is 9 days after day 1: a gap, not a line
    assert line.dots == [(132.0, 45.0)]
    assert (line.first, line.last) == (0, 2)
    assert [(t.label, t.position) for t in chart.y_ticks] == [
        ("0", 80.0),
        ("1", 62.5),
        ("2", 45.0),
        ("3", 27.5),
        ("4", 10.0),
    ]
    assert [t.label for t in chart.x_ticks] == ["Jan 01", "Jan 06", "Jan 11"]
    assert chart.summary == "2026-01-01 to 2026-01-11: High 0 to 2."
    assert not chart.empty


def test_an_empty_chart_says_so() -> None:
    start = date(2026, 1, 1)
    chart = line_chart([Series("High", "sev-high", {start - timedelta(days=1): 3})], start, start + timedelta(days=5))
    assert chart.empty and chart.lines[0].segments == [] and chart.summary.endswith("no values.")
