"""Every main page at phone width (390 px) and at desktop width (1280 px), in a real browser: the page never scrolls
sideways (wide tables scroll inside themselves), the key buttons are on screen, the menu folds behind a button on
phones (no script: a checkbox and its label), the spend chart keeps a usable height, and the request forms keep
the CSRF token out of the addresses their refreshes ask for."""

from __future__ import annotations

from typing import Any

import pytest

from costs.models import CostTagStatus
from onboarding import services
from onboarding.models import Offboarding, ProfileRequest, SpaceRequest
from portal.models import TaskRun
from profiles.models import Space, UserProfile
from tests.browser.test_inventory import log_in
from tests.costs.test_views import spend
from tests.onboarding.world import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

PHONE, LAPTOP, DESKTOP = 390, 960, 1280
SUBMIT = "form button[type=submit].primary"


@pytest.fixture
def world(sandbox_server: str) -> World:
    """The onboarding world with something on every page: a waiting profile request, a live shared space, spend,
    tag statuses, an offboarding plan and the sync run that built the inventory."""
    world = build_world()
    services.do_submit_profile_request(
        actor=world.scientist,
        person=world.scientist,
        domain=world.research,
        template=world.persona,
        justification="Churn model for the 2027 retention study, with a long justification to wrap",
    )
    space = services.do_submit_space_request(actor=world.lead, **world.space_fields())
    SpaceRequest.objects.filter(pk=space.pk).update(status="active")
    expired = services.do_submit_space_request(actor=world.lead, **world.space_fields(space_name="forecast-lab"))
    SpaceRequest.objects.filter(pk=expired.pk).update(status="expired")
    for domain, amount in ((world.research, "42.50"), (world.risk, "17.25"), (world.other, "3.10")):
        for days_ago in range(1, 70):
            spend(domain, amount, days_ago)
    for key, status in (("sagemaker:domain-arn", "Active"), ("sagemaker:user-profile-arn", "Inactive")):
        CostTagStatus.objects.create(payer=world.research.account, tag_key=key, status=status)
    world.research.account.is_payer = True
    world.research.account.save()
    services.do_plan_offboarding(actor=world.approver, person=world.lead, reason="Moved to another team")
    return world


def admin_pages(world: World) -> dict[str, list[str]]:
    """The main pages an admin visits, each with the buttons that must be on screen."""
    profile = UserProfile.objects.get(name="leila")
    space = Space.objects.filter(domain=world.research).first()
    profile_request = ProfileRequest.objects.get()
    space_request = SpaceRequest.objects.get(status="active")
    run = TaskRun.objects.filter(kind="inventory_sync").first()
    pages = {
        "/": [],
        "/accounts/": [],
        "/accounts/add/": [SUBMIT],
        "/domains/": ["#sync-now"],
        f"/domains/{world.research.pk}/": ["#sync-now"],
        "/profiles/": [],
        f"/profiles/{profile.pk}/": [],
        "/spaces/": [],
        "/apps/": [],
        "/requests/": ["#request-profile", "#request-space"],
        "/requests/profiles/": [],
        "/requests/profiles/new/": [SUBMIT],
        f"/requests/profiles/{profile_request.pk}/": ["#approve", "#reject"],
        "/requests/spaces/": [],
        f"/requests/spaces/{space_request.pk}/": ["#extend", "#delete-space"],
        "/requests/personas/": [],
        "/requests/personas/new/": [SUBMIT],
        "/offboarding/": [],
        "/offboarding/new/": [],
        f"/offboarding/{Offboarding.objects.get().pk}/": [],
        "/costs/": ["#ingest-now", "#tag-check-now"],
        "/costs/budgets/": [],
        f"/costs/budgets/{world.research.pk}/": [SUBMIT],
        f"/requests/space-policies/{world.research.pk}/": [SUBMIT],
        f"/requests/personas/{world.persona.pk}/": [SUBMIT],
        "/costs/runs/": [],
        "/sync-runs/": [],
        f"/sync-runs/{run.pk}/": [],
        "/audit/": [],
        "/roles/": [SUBMIT],
    }
    if space is not None:
        pages[f"/spaces/{space.pk}/"] = []
    return pages


def problems_on(page: Any, path: str, buttons: list[str], width: int) -> list[str]:
    """What is wrong with ``path`` at ``width``: a page wider than the screen, a key button off screen."""
    response = page.goto(path)
    if response is None or response.status != 200:
        return [f"{path}: HTTP {response.status if response else '?'}"]
    problems = []
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        widest = page.evaluate(
            """(w) => [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > w)
                 .slice(0, 3).map(e => e.tagName + '.' + e.className)""",
            width,
        )
        problems.append(f"{path}: {scroll_width} px wide at {width} px ({widest})")
    for selector in buttons:
        button = page.locator(selector).first
        if button.count() == 0:
            problems.append(f"{path}: no {selector}")
            continue
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        left = None if box is None else box["x"] + page.evaluate("window.scrollX")  # the page's own sideways scroll
        if box is None or left < 0 or left + box["width"] > width:
            problems.append(f"{path}: {selector} is outside the screen (x {left}, {box})")
    return problems


def test_every_main_page_fits_a_phone_and_keeps_its_buttons_on_screen(world: World, page: Any) -> None:
    page.set_viewport_size({"width": PHONE, "height": 800})
    log_in(page, "admin")
    problems = []
    for path, buttons in admin_pages(world).items():
        problems += problems_on(page, path, buttons, PHONE)
    page.goto("/costs/")
    page.wait_for_selector("#spend-chart[data-ready=true]")
    chart = page.locator("#spend-chart").bounding_box()
    if chart["height"] < 200:  # it used to shrink to a strip about 120 px high
        problems.append(f"/costs/: the chart is {chart['height']} px high")
    assert not problems, "\n".join(problems)


def test_an_approver_decides_from_the_inbox_on_a_phone(world: World, page: Any) -> None:
    page.set_viewport_size({"width": PHONE, "height": 800})
    log_in(page, "arjun")
    req = ProfileRequest.objects.get()
    problems = problems_on(
        page, "/requests/", [f"#profile-request-{req.pk} .approve", f"#profile-request-{req.pk} .reject"], PHONE
    )
    problems += problems_on(page, "/requests/", ["#expired-spaces button.danger"], PHONE)
    assert not problems, "\n".join(problems)
    page.locator(f"#profile-request-{req.pk}").get_by_role("button", name="Approve").click()
    page.wait_for_selector(f"#profile-request-{req.pk}[data-status=approved], #profile-request-{req.pk}[data-status]")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE  # the swapped-in row stacks too


def test_the_phone_menu_folds_behind_a_button_and_opens_without_script(
    world: World, chromium: Any, live_server: Any
) -> None:
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": PHONE, "height": 800}, java_script_enabled=False
    )
    page = context.new_page()
    try:
        log_in(page, "admin")
        costs = page.locator(".mainnav").get_by_role("link", name="Costs")
        assert not costs.is_visible()
        page.get_by_text("Menu", exact=True).click()
        assert costs.is_visible()
        box = costs.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE
        assert page.get_by_role("button", name="Log out").is_visible()
        costs.click()
        page.wait_for_url("**/costs/")
        assert not costs.is_visible()  # folded again on the next page
    finally:
        context.close()


def test_desktop_keeps_its_menu_in_view_and_nothing_cut_off(world: World, page: Any) -> None:
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    log_in(page, "admin")
    assert not page.get_by_text("Menu", exact=True).is_visible()
    assert page.locator(".mainnav").get_by_role("link", name="Costs").is_visible()
    problems = []
    for path, buttons in admin_pages(world).items():
        problems += problems_on(page, path, buttons, DESKTOP)
    page.set_viewport_size({"width": LAPTOP, "height": 900})  # in between: wide tables scroll in their list
    for path in admin_pages(world):
        problems += problems_on(page, path, [], LAPTOP)
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    run = TaskRun.objects.filter(kind="inventory_sync").first()
    page.goto(f"/sync-runs/{run.pk}/")
    changes = page.locator("#run-changes table")
    cut = changes.evaluate("t => t.scrollWidth - t.parentElement.clientWidth")
    if cut > 0:  # the Changes table used to be cut off by its grid cell
        problems.append(f"the Changes table is cut by {cut} px")
    assert not problems, "\n".join(problems)


def test_request_forms_do_not_put_the_csrf_token_in_addresses(world: World, page: Any) -> None:
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    log_in(page, "maria")
    page.goto("/requests/profiles/new/")
    page.select_option("#id_domain", str(world.research.pk))
    page.wait_for_selector("#name-preview")  # the form came back for the domain
    page.context.clear_cookies()
    log_in(page, "leila")
    page.goto("/requests/spaces/new/")
    page.select_option("#id_domain", str(world.research.pk))
    page.wait_for_selector("text=owned by your profile")  # the form came back for the domain
    with page.expect_response(lambda response: "/requests/spaces/estimate/" in response.url):
        page.select_option("#id_instance_type", "ml.m5.large")
    refreshes = [url for url in asked if "/new/?" in url or "/estimate/?" in url]
    assert len(refreshes) >= 3, asked
    assert not [url for url in asked if "csrfmiddlewaretoken" in url]
