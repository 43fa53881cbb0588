"""The governance overview in a real browser: an approver opens it from the menu, sees each domain's posture and
its trend chart, follows to idle compliance and to a finding; every page fits a phone without scrolling sideways.
Screenshots at desktop and phone width go to the test's temporary directory."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from governance import engine
from governance.models import PostureSnapshot
from tests.browser.test_inventory import log_in
from tests.browser.test_layout import DESKTOP, PHONE, problems_on
from tests.factories import AppFactory, UserProfileFactory
from tests.governance.pages_world import PagesWorld, build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


@pytest.fixture
def world() -> PagesWorld:
    """The crafted domains, evaluated by the engine (so the idle apps have their CO-04 findings), with a daily
    snapshot over the last 90 days: research's findings fall from 9/7/4 to today's, Classic profiles from 8."""
    world = build()
    classic = UserProfileFactory(
        domain=world.research,
        name="old-timer",
        settings_snapshot={"DefaultLandingUri": "app:JupyterServer:", "StudioWebPortal": "DISABLED"},
    )
    AppFactory(
        domain=world.research, user_profile=classic, app_type="JupyterServer", name="default", instance_type="system"
    )
    engine.evaluate([world.research, world.payments])
    today = timezone.localdate()
    for days_ago in range(1, 90):
        fall = days_ago // 12
        for domain, base in ((world.research, 1), (world.payments, 0)):
            PostureSnapshot.objects.update_or_create(
                domain=domain,
                day=today - timedelta(days=days_ago),
                defaults={
                    "open_high": base + fall,
                    "open_medium": 2 * base + fall // 2,
                    "open_low": 1 + (days_ago % 3 == 0),
                    "classic_profiles": base * min(fall, 8),
                    "classic_apps_running": base * min(fall // 2, 3),
                    "taken_at": timezone.now(),
                },
            )
    return world


def shoot(page: Any, directory: Path, name: str, width: int) -> Path:
    page.set_viewport_size({"width": width, "height": 900})
    path = directory / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_an_approver_reads_the_overview_follows_to_idle_compliance_and_a_finding(
    world: PagesWorld, page: Any, tmp_path: Path
) -> None:
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    log_in(page, "approver")
    page.get_by_role("link", name="Governance", exact=True).click()
    page.wait_for_url("**/governance/")
    card = page.locator(f'section[data-domain="{world.research.domain_id}"]')
    assert card.get_by_role("link", name="research").is_visible()
    chart = card.locator(f'svg[data-chart="posture-{world.research.domain_id}"]')
    assert chart.is_visible() and chart.locator("polyline").count() == 3
    assert chart.bounding_box()["height"] > 120  # drawn at a readable size
    assert "High" in card.locator(".legend").inner_text()
    tracker = page.locator("#classic-tracker")
    assert tracker.locator(f'tr[data-domain="{world.payments.domain_id}"]').get_by_text("Retired").is_visible()
    research_row = tracker.locator(f'tr[data-domain="{world.research.domain_id}"]')
    assert research_row.locator("[data-classic-profiles]").inner_text().startswith("1")  # old-timer lands in Classic
    assert research_row.get_by_text("In use").is_visible()
    assert page.locator("#top-findings tbody tr").count() > 0
    shots = [shoot(page, tmp_path, "overview", DESKTOP), shoot(page, tmp_path, "overview", PHONE)]

    page.set_viewport_size({"width": DESKTOP, "height": 900})
    page.locator(".subnav").get_by_role("link", name="Idle compliance").click()
    page.wait_for_url("**/governance/idle/")
    gpu = page.locator(f'tr[data-app="{world.apps["gpu"].arn}"]')
    assert "$70.40" in gpu.inner_text() and "GPU" in gpu.inner_text()
    assert page.locator("#profiles-share").inner_text() == "60.0%"  # 3 of 5, old-timer included
    page.select_option("#id_domain", label="payments")
    page.wait_for_function("() => !document.querySelector('#idle-apps').innerText.includes('gpu-kernel')")
    assert "domain=" in page.url and "eu-lab" in page.locator("#idle-apps").inner_text()
    page.goto("/governance/idle/")
    shots += [shoot(page, tmp_path, "idle", DESKTOP), shoot(page, tmp_path, "idle", PHONE)]

    page.set_viewport_size({"width": DESKTOP, "height": 900})
    gpu = page.locator(f'tr[data-app="{world.apps["gpu"].arn}"]')
    gpu.get_by_role("link", name="CO-04").click()
    page.wait_for_url("**/governance/findings/*/")
    assert "CO-04" in page.get_by_role("heading", level=1).inner_text()
    assert "gpu-kernel" in page.locator(".lead").inner_text()
    page.locator("#resource-link").click()
    page.wait_for_url(f"**/profiles/{world.profiles['on'].pk}/")
    assert "gpu-kernel" in page.locator("#findings-panel").inner_text()
    shots += [shoot(page, tmp_path, "profile-panel", DESKTOP)]
    page.goto(f"/domains/{world.research.pk}/")
    assert page.locator("#governance-panel [data-severity=high]").is_visible()
    shots += [shoot(page, tmp_path, "domain-panel", DESKTOP), shoot(page, tmp_path, "domain-panel", PHONE)]

    page.goto("/governance/")
    page.locator("#top-findings tbody a").first.click()
    page.wait_for_url("**/governance/findings/*/")
    shots += [shoot(page, tmp_path, "finding", PHONE)]
    assert all(shot.stat().st_size > 10_000 for shot in shots)

    page.set_viewport_size({"width": PHONE, "height": 800})
    finding_path = page.url.removeprefix(page.base_url)
    wrong = []
    for path in ("/governance/", "/governance/idle/", "/governance/findings/", finding_path):
        wrong += problems_on(page, path, [], PHONE)
    assert not wrong, wrong
