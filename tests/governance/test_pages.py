"""The governance overview and idle compliance pages, their APIs, the posture panels on the domain, profile and
space pages, and the finding page's links: scope, numbers, empty states, pagination and pinned query counts."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from governance import engine, services
from governance.models import Finding, PostureSnapshot
from tests.factories import AppFactory, DomainFactory, UserProfileFactory
from tests.governance.pages_world import PagesWorld, build, finding

pytestmark = pytest.mark.django_db

OVERVIEW, IDLE = "governance:overview", "governance:idle"


@pytest.fixture
def world() -> PagesWorld:
    return build()


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def section(body: str, element_id: str) -> str:
    """The HTML of the element with this id, up to its closing tag (sections and divs here do not nest alike)."""
    start = body.index(f'id="{element_id}"')
    tag = body[body.rindex("<", 0, start) + 1 : start].split()[0]
    return body[start : body.index(f"</{tag}>", start)]


# -- the overview -----------------------------------------------------------------------------------------------
def test_the_menu_and_the_old_findings_link_lead_to_the_right_pages(world: PagesWorld) -> None:
    client = client_for(world.users["approver"])
    body = text(client.get("/"))
    assert f'<a href="{reverse(OVERVIEW)}"' in body and reverse(OVERVIEW) == "/governance/"
    assert reverse("governance:finding-list") == "/governance/findings/"
    assert "research" in text(client.get("/governance/findings/"))


def test_an_approver_sees_each_domains_posture_with_its_chart(world: PagesWorld) -> None:
    body = text(client_for(world.users["approver"]).get(reverse(OVERVIEW)))
    research = section(body, f"posture-{world.research.domain_id}")
    card = body[body.index(f'data-domain="{world.research.domain_id}"') :]
    card = card[: card.index("</section>")]
    assert "<strong>2</strong><small>high</small>" in card and "<strong>1</strong><small>accepted</small>" in card
    # Three snapshots, days apart: each severity is three dots, no line drawn across the missing days.
    assert f'data-chart="posture-{world.research.domain_id}"' in card
    assert card.count("<circle") == 9 and "<polyline" not in card
    assert f"?domain={world.research.domain_id}&amp;severity=high&amp;status=open" in card
    assert "research" in research
    assert re.search(r"severity=high&amp;status=open\">2<", body)  # the total over both domains
    assert "elsewhere" not in body  # the outsider's domain
    top = section(body, "top-findings")
    assert top.index("Finding old") < top.index("Finding ana") < top.index("Finding ben") < top.index("Finding low")
    assert "Finding acc" not in top and "Finding far" not in top
    classic = section(body, "classic-tracker")
    assert 'data-classic-profiles="1"' in classic and "-5 since" in classic and "Retired" in classic
    assert f'data-chart="classic-{world.research.domain_id}"' in classic  # three snapshots with Classic in use
    assert f'data-chart="classic-{world.payments.domain_id}"' not in classic and "one snapshot so far" in classic


def test_a_data_scientist_sees_their_own_findings_without_the_domain_trend(world: PagesWorld) -> None:
    body = text(client_for(world.users["scientist"]).get(reverse(OVERVIEW)))
    assert "<strong>1</strong><small>high</small>" in body and "Finding ana" in body
    assert "Finding old" not in body and "data-chart=" not in body
    assert "The domain's trend is for its approvers" in body


def test_an_outsider_sees_nothing_of_another_domain_and_a_filter_on_it_is_refused(world: PagesWorld) -> None:
    client = client_for(world.users["outsider"])
    body = text(client.get(reverse(OVERVIEW)))
    assert "elsewhere" in body and "research" not in body
    refused = text(client.get(reverse(OVERVIEW), {"domain": world.research.domain_id}))
    assert "Select a valid choice" in refused and "Finding" not in refused[refused.index('id="results"') :]
    assert client.get("/api/governance/overview/", {"domain": world.research.domain_id}).status_code == 400
    refused = text(client.get(reverse(IDLE), {"domain": world.research.arn}))
    assert "Select a valid choice" in refused and "gpu-kernel" not in refused


def test_filtering_the_overview_by_domain_and_the_htmx_partial(world: PagesWorld) -> None:
    client = client_for(world.users["approver"])
    body = text(client.get(reverse(OVERVIEW), {"domain": world.payments.domain_id}))
    assert f'data-domain="{world.payments.domain_id}"' in body
    assert f'data-domain="{world.research.domain_id}"' not in body
    partial = text(client.get(reverse(OVERVIEW), {"account": "111122223333"}, HTTP_HX_REQUEST="true"))
    assert "<html" not in partial and 'id="domain-posture"' in partial


def test_empty_states_say_how_to_get_data(world: PagesWorld) -> None:
    assert "No domain in your scope yet" in text(client_for(world.users["nobody"]).get(reverse(OVERVIEW)))
    PostureSnapshot.objects.all().delete()
    body = text(client_for(world.users["approver"]).get(reverse(OVERVIEW)))
    assert "No posture snapshot yet" in body and "manage.py check_posture" in body and "every 6 hours" in body
    Finding.objects.all().delete()
    assert "No open finding in these domains yet" in text(client_for(world.users["approver"]).get(reverse(OVERVIEW)))


def test_the_overview_pins_its_queries_whatever_the_rows(world: PagesWorld, django_assert_num_queries: Any) -> None:
    client = client_for(world.users["approver"])
    client.get(reverse(OVERVIEW))
    # session, user, roles, domains in scope (filter choices), domains, counts, snapshots, top findings
    with django_assert_num_queries(8):
        assert client.get(reverse(OVERVIEW)).status_code == 200
    today = timezone.localdate()
    for n in range(30):
        finding(world.payments, f"grow{n}", "low", days_old=n)
        PostureSnapshot.objects.update_or_create(
            domain=world.payments,
            day=today - timedelta(days=n + 1),
            defaults={"open_low": n, "taken_at": timezone.now()},
        )
    with django_assert_num_queries(8):
        assert client.get(reverse(OVERVIEW)).status_code == 200


# -- idle compliance --------------------------------------------------------------------------------------------
def test_the_idle_page_shows_shares_idle_apps_and_their_cost(world: PagesWorld) -> None:
    engine.evaluate([world.research])  # records the CO-04 findings the rows link to
    body = text(client_for(world.users["approver"]).get(reverse(IDLE)))
    assert section(body, "profiles-share").endswith(">50.0%")  # 2 of 4
    assert section(body, "spaces-share").endswith(">50.0%")  # 3 of 6
    assert section(body, "idle-cost").endswith(">$74.12")
    research = section(body, "idle-domains")
    research = research[research.index(f'data-domain="{world.research.domain_id}"') :]
    assert "<strong>33.3%</strong>" in research and "1 of 3" in research and "<strong>40.0%</strong>" in research
    assert reverse("governance:policy", args=[world.research.pk]) in research  # the approver changes the 24 h
    lead = section(text(client_for(world.users["lead"]).get(reverse(IDLE))), "idle-domains")
    assert "24 h" in lead and reverse("governance:policy", args=[world.research.pk]) not in lead
    apps = section(body, "idle-apps")
    assert apps.index("gpu-kernel") < apps.index("eu-lab") < apps.index("team-lab") < apps.index("big-memory")
    assert 'data-hours="50"' in apps and "$70.40" in apps and "no price for ml.r5.large" in apps
    co04 = Finding.objects.get(check_id="CO-04", resource_arn=world.apps["gpu"].arn)
    assert reverse("governance:finding-detail", args=[co04.pk]) in apps
    assert reverse("profiles:space-detail", args=[world.spaces["shared"].pk]) in apps


def test_the_idle_apps_paginate_sort_and_filter(world: PagesWorld) -> None:
    old = timezone.now() - timedelta(days=5)
    for n in range(30):
        AppFactory(
            domain=world.payments, user_profile=world.profiles["payments"], name=f"idle{n:02d}", aws_created_at=old
        )
    client = client_for(world.users["approver"])
    first = text(client.get(reverse(IDLE)))
    assert "Page 1 of 2" in first and "34 in all" in first
    second = text(client.get(reverse(IDLE), {"page": 2, "sort": "-hours"}))
    assert "Page 2 of 2" in second and "team-lab" in second  # the shortest idle (30 h) last
    by_hours = text(client.get(reverse(IDLE), {"sort": "hours"}))
    assert 'data-sort="ascending"' in by_hours
    assert re.search(r'data-app="([^"]+)"', by_hours).group(1) == world.apps["cpu"].arn  # 30 hours: the shortest
    research = text(client.get(reverse(IDLE), {"domain": world.research.domain_id}))
    assert "idle00" not in research and "gpu-kernel" in research
    partial = text(client.get(reverse(IDLE), {"page": 2}, HTTP_HX_REQUEST="true"))
    assert "<html" not in partial and 'id="idle-apps"' in partial


def test_idle_page_empty_states(world: PagesWorld) -> None:
    assert "No domain in your scope yet" in text(client_for(world.users["nobody"]).get(reverse(IDLE)))
    body = text(client_for(world.users["outsider"]).get(reverse(IDLE)))
    assert "JupyterLab/far" in body  # the outsider's own idle app, 90 hours
    client = client_for(world.users["approver"])
    body = text(client.get(reverse(IDLE), {"domain": world.payments.domain_id, "page": 1}))
    assert "eu-lab" in body
    world.apps["payments"].delete()
    body = text(client.get(reverse(IDLE), {"domain": world.payments.domain_id}))
    assert "No app has run without user activity" in body


def test_the_idle_page_pins_its_queries_whatever_the_rows(world: PagesWorld, django_assert_num_queries: Any) -> None:
    engine.evaluate([world.research, world.payments])
    client = client_for(world.users["approver"])
    client.get(reverse(IDLE))
    # session, user, roles, domains in scope, domains, policies, profiles, spaces, apps, the idle apps' findings
    with django_assert_num_queries(10):
        assert client.get(reverse(IDLE)).status_code == 200
    old = timezone.now() - timedelta(days=3)
    for n in range(20):
        profile = UserProfileFactory(domain=world.payments, name=f"grow{n}")
        AppFactory(domain=world.payments, user_profile=profile, aws_created_at=old)
    engine.evaluate([world.payments])
    with django_assert_num_queries(10):
        assert client.get(reverse(IDLE)).status_code == 200


# -- APIs -------------------------------------------------------------------------------------------------------
def test_the_overview_api(world: PagesWorld) -> None:
    data = client_for(world.users["approver"]).get("/api/governance/overview/").json()
    domains = {d["name"]: d for d in data["domains"]}
    research = domains["research"]
    assert research["open"] == {"high": 2, "medium": 1, "low": 1} and research["accepted"] == 1
    assert [p["open_high"] for p in research["trend"]] == [5, 3, 2] and research["domain_wide"] is True
    assert research["classic"] == {
        "profiles": 1,
        "apps_running": 0,
        "profiles_change": -5,
        "apps_running_change": -3,
        "since": (world.today - timedelta(days=89)).isoformat(),
        "retired": False,
    }
    assert data["totals"] == {"high": 2, "medium": 2, "low": 1, "accepted": 1}
    assert [f["resource_name"] for f in data["top_findings"]][:2] == ["research", "ana"]
    mine = client_for(world.users["scientist"]).get("/api/governance/overview/").json()
    assert mine["domains"][0]["domain_wide"] is False and mine["domains"][0]["trend"] == []
    assert mine["domains"][0]["classic"] is None
    one = client_for(world.users["approver"]).get("/api/governance/overview/", {"domain": world.payments.arn}).json()
    assert [d["name"] for d in one["domains"]] == ["payments"]


def test_the_idle_compliance_api(world: PagesWorld) -> None:
    data = client_for(world.users["approver"]).get("/api/governance/idle-compliance/").json()
    research = {d["name"]: d for d in data["domains"]}["research"]
    assert research["profiles"] == {"enforced": 1, "total": 3, "percent": 33.3}
    assert research["spaces"] == {"enforced": 2, "total": 5, "percent": 40.0}
    assert (research["idle_apps"], research["idle_cost"], research["unpriced_apps"]) == (3, "71.90", 1)
    assert research["app_idle_hours"] == 24
    assert (data["idle_apps"], data["idle_cost"], data["profiles"]["percent"]) == (4, "74.12", 50.0)
    assert "pricing" in data["prices_source"]
    bad = client_for(world.users["approver"]).get("/api/governance/idle-compliance/", {"account": "999999999999"})
    assert bad.status_code == 400 and "account" in bad.json()


def test_the_idle_apps_api_pages_and_sorts(world: PagesWorld) -> None:
    client = client_for(world.users["approver"])
    page = client.get("/api/governance/idle-apps/", {"page_size": 2}).json()
    assert page["count"] == 4 and page["next"] and page["previous"] is None
    first = page["results"][0]
    assert (first["name"], first["hours_idle"], first["idle_cost_usd"], first["hourly_usd"]) == (
        "gpu-kernel",
        50,
        "70.40",
        "1.4080",
    )
    assert first["severity"] == "high" and first["threshold_hours"] == 24 and first["region"] == "us-east-1"
    last = client.get(page["next"]).json()["results"]
    assert [a["name"] for a in last] == ["team-lab", "big-memory"] and last[1]["idle_cost_usd"] is None
    by_hours = client.get("/api/governance/idle-apps/", {"ordering": "hours"}).json()["results"]
    assert [a["hours_idle"] for a in by_hours] == [30, 40, 48, 50]
    assert client.get("/api/governance/idle-apps/", {"page": 9}).status_code == 404
    mine = client_for(world.users["scientist"]).get("/api/governance/idle-apps/").json()
    assert {a["name"] for a in mine["results"]} == {"gpu-kernel", "team-lab"}
    assert Client().get("/api/governance/idle-apps/").status_code == 403


def test_the_checks_api_filters_like_the_findings(world: PagesWorld) -> None:
    client = client_for(world.users["approver"])
    engine.evaluate([world.research, world.payments])
    every = {c["id"]: c for c in client.get("/api/checks/").json()}
    assert every["CO-04"]["open"] == 4 and every["SE-01"]["open"] >= 2
    one = client.get("/api/checks/", {"check": "CO-04", "domain": world.payments.domain_id}).json()
    assert [(c["id"], c["open"]) for c in one] == [("CO-04", 1)]
    high = {c["id"]: c for c in client.get("/api/checks/", {"severity": "high"}).json()}
    assert "CO-04" in high and "SE-02" not in high and high["CO-04"]["open"] == 1  # only the GPU app is high
    apps = [c["id"] for c in client.get("/api/checks/", {"resource_kind": "app"}).json()]
    assert apps == ["CO-04", "UX-02"]
    eu = Finding.objects.get(check_id="CO-04", resource_arn=world.apps["payments"].arn)
    services.do_accept(world.users["approver"], eu, reason="Month-end batch", until=world.today + timedelta(days=3))
    accepted = client.get("/api/checks/", {"status": "accepted"}).json()
    assert [(c["id"], c["open"], c["accepted"]) for c in accepted] == [("CO-04", 0, 1)]
    assert client.get("/api/checks/", {"account": world.research.account.account_id}).status_code == 200
    outsider = client_for(world.users["outsider"])
    assert outsider.get("/api/checks/", {"domain": world.research.domain_id}).status_code == 400
    assert client.get("/api/checks/", {"check": "XX-99"}).status_code == 400


def test_the_findings_api_filters_by_every_field(world: PagesWorld) -> None:
    client = client_for(world.users["approver"])
    params = {
        "check": "ID-01",
        "severity": "medium",
        "status": "open",
        "domain": world.payments.domain_id,
        "account": "111122223333",
        "resource_kind": "profile",
    }
    data = client.get("/api/findings/", params).json()
    assert [f["resource_name"] for f in data["results"]] == ["pay"]
    assert client.get("/api/findings/", {**params, "resource_kind": "app"}).json()["count"] == 0


# -- panels -----------------------------------------------------------------------------------------------------
def test_the_domain_page_shows_the_domains_counts_to_its_readers(world: PagesWorld) -> None:
    url = reverse("domains:domain-detail", args=[world.research.pk])
    body = text(client_for(world.users["approver"]).get(url))
    panel = section(body, "governance-panel")
    assert 'data-severity="high">2 high' in panel and 'data-status="accepted">1 risk accepted' in panel
    assert f"domain={world.research.domain_id}&amp;severity=high&amp;status=open" in panel
    assert "Finding old" in panel and "Finding ben" not in panel  # on the domain itself only
    assert reverse("governance:policy", args=[world.research.pk]) in panel
    finance = section(text(client_for(world.users["finance"]).get(url)), "governance-panel")
    assert (
        'data-severity="high">2 high' in finance
        and reverse("governance:policy", args=[world.research.pk]) not in finance
    )
    mine = section(text(client_for(world.users["scientist"]).get(url)), "governance-panel")
    assert "Your open findings" in mine and 'data-severity="high">1 high' in mine and "Finding old" not in mine
    assert client_for(world.users["outsider"]).get(url).status_code == 404


def test_a_scientist_without_findings_gets_no_domain_panel(world: PagesWorld) -> None:
    Finding.objects.filter(owner=world.users["scientist"]).delete()
    body = text(client_for(world.users["scientist"]).get(reverse("domains:domain-detail", args=[world.research.pk])))
    assert 'id="governance-panel"' not in body


def test_profile_and_space_pages_show_the_findings_on_them_and_their_apps(world: PagesWorld) -> None:
    research, apps, spaces = world.research, world.apps, world.spaces
    on_app = {"check_id": "CO-04", "resource_kind": "app", "details": "JupyterLab/gpu-kernel idles"}
    finding(research, "gpu", "high", resource_arn=apps["gpu"].arn, owner=world.users["scientist"], **on_app)
    on_app.update(resource_arn=apps["cpu"].arn, details="JupyterLab/team-lab idles")
    finding(research, "cpu", "medium", owner=world.users["scientist"], **on_app)
    on_space = {"check_id": "CO-01", "resource_kind": "space", "details": "Idle shutdown off in team"}
    finding(research, "team", "medium", resource_arn=spaces["shared"].arn, owner=world.users["scientist"], **on_space)
    profile_url = reverse("profiles:profile-detail", args=[world.profiles["on"].pk])
    own = section(text(client_for(world.users["scientist"]).get(profile_url)), "findings-panel")
    assert "Finding ana" in own and "gpu-kernel idles" in own  # its own finding and its GPU app's
    assert "team-lab" not in own  # on a space's app, not on the profile's
    lead = section(text(client_for(world.users["lead"]).get(profile_url)), "findings-panel")
    assert "Finding ana" in lead
    space_url = reverse("profiles:space-detail", args=[world.spaces["shared"].pk])
    space = section(text(client_for(world.users["approver"]).get(space_url)), "findings-panel")
    assert "team-lab idles" in space and "Idle shutdown off in team" in space and "gpu-kernel" not in space
    clean = reverse("profiles:space-detail", args=[world.spaces["payments-shared"].pk])
    assert "No open finding on this space" in text(client_for(world.users["approver"]).get(clean))
    assert client_for(world.users["outsider"]).get(profile_url).status_code == 404
    assert client_for(world.users["outsider"]).get(space_url).status_code == 404


def test_someone_elses_profile_shows_no_findings_panel_to_a_scientist(world: PagesWorld) -> None:
    # A data scientist reads only their own profiles: another's answers 404 before any panel.
    url = reverse("profiles:profile-detail", args=[world.profiles["lab-off"].pk])
    assert client_for(world.users["scientist"]).get(url).status_code == 404


# -- the finding page -------------------------------------------------------------------------------------------
def test_the_finding_page_links_its_resource_and_labels_its_audit_trail(world: PagesWorld) -> None:
    engine.evaluate([world.research])
    client = client_for(world.users["approver"])
    co04 = Finding.objects.get(check_id="CO-04", resource_arn=world.apps["cpu"].arn)
    body = text(client.get(reverse("governance:finding-detail", args=[co04.pk])))
    assert f'href="{reverse("profiles:space-detail", args=[world.spaces["shared"].pk])}" id="resource-link"' in body
    assert f'href="{reverse(OVERVIEW)}">Governance</a>' in body
    services.do_accept(world.users["approver"], co04, reason="Batch job", until=world.today + timedelta(days=7))
    body = text(client.get(reverse("governance:finding-detail", args=[co04.pk])))
    assert "Finding&#x27;s risk accepted" in body and "Batch job" in body
    domain_finding = world.findings["high-old"]
    body = text(client.get(reverse("governance:finding-detail", args=[domain_finding.pk])))
    assert f'href="{reverse("domains:domain-detail", args=[world.research.pk])}" id="resource-link"' in body
    gone = world.findings["accepted"]  # its resource is not in the inventory
    assert 'id="resource-link"' not in text(client.get(reverse("governance:finding-detail", args=[gone.pk])))


def test_the_overview_and_idle_statement_counts_match_for_few_and_many_domains(world: PagesWorld) -> None:
    client = client_for(world.users["admin"])

    def statements() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(OVERVIEW)).status_code == 200
            assert client.get(reverse(IDLE)).status_code == 200
        return len(queries)

    few = statements()
    for n in range(5):
        domain = DomainFactory(name=f"more{n}")
        AppFactory(domain=domain, aws_created_at=timezone.now() - timedelta(days=2))
        finding(domain, "x", "high")
        PostureSnapshot.objects.create(domain=domain, day=world.today, open_high=1, taken_at=timezone.now())
    assert statements() == few
