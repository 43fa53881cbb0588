"""The registry the apps fill from their ready(): menu entries, run kinds and their pages, detail page panels."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from costs.models import Budget
from portal.context_processors import portal
from portal.models import TaskRun
from portal.registry import MenuEntry, Panel, Registry, RunKind, registry
from tests.factories import DomainFactory, SpaceFactory, UserFactory, UserProfileFactory, grant

pytestmark = pytest.mark.django_db


def menu_of(user: Any) -> list[str]:
    request = RequestFactory().get("/")
    request.user = user
    return [item["label"] for item in portal(request)["nav_items"]]


def test_the_menu_lists_what_the_apps_registered_in_their_order_and_for_whom() -> None:
    admin = UserFactory(username="root", is_superuser=True)
    scientist = UserFactory(username="sci")
    grant(scientist, "data_scientist", DomainFactory())
    assert menu_of(admin) == [
        "Overview",
        "Accounts",
        "Domains",
        "People",
        "Profiles",
        "Spaces",
        "Requests",
        "Offboarding",
        "Change sets",
        "Governance",
        "Tag backfill",
        "Execution roles",
        "Costs",
        "Sync runs",
        "Audit log",
        "Roles",
        "API",
    ]
    assert "Accounts" not in menu_of(scientist) and "Offboarding" not in menu_of(scientist)
    assert "Change sets" not in menu_of(scientist) and "Execution roles" not in menu_of(scientist)
    assert "Tag backfill" not in menu_of(scientist)
    assert "People" not in menu_of(scientist)  # they would find only themselves there


def test_the_menu_has_a_governance_entry() -> None:
    assert "Governance" in menu_of(UserFactory(username="root", is_superuser=True))


def test_every_menu_entry_and_run_page_resolves() -> None:
    for entry in registry.menu:
        reverse(entry.url_name)
    for kind in registry.run_kinds.values():
        reverse(f"{kind.url_prefix}-list")


def test_a_run_links_to_the_pages_its_app_registered() -> None:
    run = TaskRun.objects.create(kind="cost_ingestion", scope={}, scope_label="all", trigger="user")
    assert run.get_list_url() == reverse("costs:run-list")
    assert run.get_progress_url() == reverse("costs:run-progress", args=[run.pk])
    assert run.get_kind_display() == "Cost ingestion"


def test_a_run_of_a_kind_nobody_registered_says_so() -> None:
    run = TaskRun.objects.create(kind="mystery", scope={}, scope_label="all", trigger="user")
    assert run.get_kind_display() == "mystery"
    with pytest.raises(LookupError, match="mystery"):
        run.get_absolute_url()


def test_the_registry_refuses_a_panel_for_an_unknown_page_and_a_run_kind_registered_twice() -> None:
    fresh = Registry()
    with pytest.raises(ValueError, match="checkout"):
        fresh.add_panel(Panel("checkout", "x.html", lambda request, obj: {}))
    fresh.add_run_kind(RunKind("k", "K", "a:b"))
    fresh.add_run_kind(RunKind("k", "K", "a:b"))  # the same again is harmless (ready() may run twice)
    with pytest.raises(ValueError, match="twice"):
        fresh.add_run_kind(RunKind("k", "Other", "a:b"))
    fresh.add_menu(MenuEntry("B", "b", order=2))
    fresh.add_menu(MenuEntry("A", "a", order=1))
    assert [e.label for e in fresh.menu] == ["A", "B"]


@pytest.fixture
def extra_panel() -> Iterator[list[Any]]:
    """A panel on the profile and space pages that records what it was asked for."""
    seen: list[Any] = []

    def context(request: Any, obj: Any) -> dict[str, Any] | None:
        seen.append(obj)
        return {"note": f"note-about-{obj.name}"} if obj.name != "hidden" else None

    added = [Panel(page, "portal/_test_panel.html", context) for page in ("profile", "space")]
    for panel in added:
        registry.add_panel(panel)
    yield seen
    for panel in added:
        registry.panels.remove(panel)


def test_a_registered_panel_appears_on_profile_and_space_pages_unless_it_answers_none(
    client: Client, extra_panel: list[Any], tmp_path: Any, settings: Any
) -> None:
    (tmp_path / "portal").mkdir()
    (tmp_path / "portal" / "_test_panel.html").write_text("<p>{{ note }}</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    admin = UserFactory(username="root", is_superuser=True)
    client.force_login(admin)
    profile, space = UserProfileFactory(name="maria"), SpaceFactory(name="hidden")
    assert "note-about-maria" in client.get(reverse("profiles:profile-detail", args=[profile.pk])).content.decode()
    page = client.get(reverse("profiles:space-detail", args=[space.pk])).content.decode()
    assert "note-about" not in page
    assert extra_panel == [profile, space]


def test_the_budget_panel_shows_on_the_domain_page_only_to_who_reads_its_spend(client: Client) -> None:
    domain = DomainFactory()
    Budget.objects.create(domain=domain, monthly_amount=Decimal("1000"), thresholds=[80])
    finance, scientist = UserFactory(username="fin"), UserFactory(username="sci")
    grant(finance, "finance", domain)
    grant(scientist, "data_scientist", domain)
    url = reverse("domains:domain-detail", args=[domain.pk])
    client.force_login(finance)
    assert "spent this month of $1000" in client.get(url).content.decode()
    client.force_login(scientist)
    page = client.get(url).content.decode()
    assert "Budget" not in page and "User profiles" in page  # the members panel, from the profiles app
