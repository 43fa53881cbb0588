"""The permission matrix: every page and API endpoint of the portal, read by each role and by a user of another
domain. Routes are discovered from the URL configuration, so a new page without a row here fails the test.

Objects all live in the domain ``research``; the outsider works in the domain ``other``. Expected answers: 200 (or
302 where a page redirects), 404 for what is out of scope, 302 to the login page (pages) or 403 (API) for an
anonymous visitor. POST-only actions are posted by the people who must not act (anonymous, finance, outsider): none
of them changes anything.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from backfill import wizard
from backfill.models import AttributionRule, CostTagBackfill, LegacyResource
from changesets import services as changeset_services
from changesets.planning import PlannedChange
from costs.models import Budget, SpendRollup
from domains.models import Person, PersonMatch
from governance.models import Finding
from iamaccess.models import ExecutionRole, RoleUse
from onboarding import services
from onboarding.models import Offboarding, SpacePolicy, SpaceRequest
from portal.apitokens import do_create_token
from portal.models import AuditEvent, GroupRoleMapping, OutgoingMail, RoleAssignment, TaskRun
from profiles.models import App, Space, UserProfile
from tests.factories import UserFactory, UserProfileFactory
from tests.onboarding.world import World, build_world

pytestmark = pytest.mark.django_db

ROLES = ("anon", "admin", "approver", "finance", "lead", "scientist", "outsider")
SKIP = ("admin/", "static/", "api/auth/")  # Django's admin (superusers only), files, DRF's login pages

# What each route's <pk> is.
OBJECTS = {
    "domains:account-edit": "account",
    "domains:account-verify": "account",
    "domains:domain-detail": "domain",
    "domains:role-revoke": "role",
    "domains:syncrun-detail": "syncrun",
    "domains:syncrun-progress": "syncrun",
    "profiles:profile-detail": "profile",
    "profiles:open-studio": "profile",
    "profiles:link-person": "profile",
    "profiles:space-detail": "space",
    "costs:budget-form": "domain",
    "costs:run-detail": "costrun",
    "costs:run-progress": "costrun",
    "onboarding:profile-request-detail": "profile_request",
    "onboarding:profile-request-progress": "profile_request",
    "onboarding:profile-request-action": "profile_request",
    "onboarding:space-request-detail": "space_request",
    "onboarding:space-request-progress": "space_request",
    "onboarding:space-request-action": "space_request",
    "onboarding:persona-edit": "persona",
    "onboarding:space-policy": "domain",
    "onboarding:offboarding-detail": "offboarding",
    "onboarding:offboarding-progress": "offboarding",
    "onboarding:offboarding-action": "offboarding",
    "api-account-detail": "account",
    "api-domain-detail": "domain",
    "api-syncrun-detail": "syncrun",
    "api-role-detail": "role",
    "api-profile-detail": "profile",
    "api-profile-open-studio": "profile",
    "api-profile-link-person": "profile",
    "api-space-detail": "space",
    "api-app-detail": "app",
    "api-rollup-detail": "rollup",
    "api-budget-detail": "budget",
    "api-costrun-detail": "costrun",
    "api-audit-detail": "audit",
    "api-mail-detail": "mail",
    "api-persona-detail": "persona",
    "api-space-policy-detail": "policy",
    "api-offboarding-detail": "offboarding",
    "api-profile-request-detail": "profile_request",
    "api-space-request-detail": "space_request",
}
for verb in ("approve", "cancel", "reject", "retry", "retry-now"):
    OBJECTS[f"api-profile-request-{verb}"] = "profile_request"
    OBJECTS[f"api-space-request-{verb}"] = "space_request"
for verb in ("approve", "cancel", "resume", "retry-now"):
    OBJECTS[f"api-offboarding-{verb}"] = "offboarding"
OBJECTS["api-space-request-extend"] = OBJECTS["api-space-request-delete-space"] = "space_request"
OBJECTS.update(
    {
        "governance:finding-detail": "finding",
        "governance:run-detail": "posturerun",
        "governance:run-progress": "posturerun",
        "api-finding-detail": "finding",
        "api-finding-accept": "finding",
    }
)
for name in ("changesets:detail", "changesets:progress", "changesets:action", "api-change-set-detail"):
    OBJECTS[name] = "change_set"
for verb in ("approve", "cancel", "reject", "retry", "revert"):
    OBJECTS[f"api-change-set-{verb}"] = "change_set"
OBJECTS["changesets:edit"] = "profile"
OBJECTS.update(
    {
        "backfill:resource-detail": "legacy_resource",
        "backfill:domain-coverage": "domain",
        "iamaccess:isolation-rollout": "domain",
        "api-isolation-rollout-detail": "domain",
        "api-isolation-rollout-locked-out": "domain",
        "backfill:rule-delete": "rule",
        "backfill:run-detail": "discoveryrun",
        "backfill:run-progress": "discoveryrun",
        "api-backfill-resource-detail": "legacy_resource",
        "api-backfill-resource-except": "legacy_resource",
        "api-backfill-rule-detail": "rule",
        "backfill:plan-detail": "plan",
        "backfill:plan-action": "plan",
        "backfill:apply-detail": "applyrun",
        "backfill:apply-progress": "applyrun",
        "api-backfill-plan-detail": "plan",
        "api-backfill-plan-approve": "plan",
        "api-backfill-plan-apply": "plan",
        "api-backfill-plan-cancel": "plan",
        "api-backfill-plan-items": "plan",
        "iamaccess:role-detail": "execution_role",
        "iamaccess:role-policy": "execution_role",
        "api-executionrole-policy": "execution_role",
        "api-executionrole-policy-change-set": "execution_role",
        "api-executionrole-detail": "execution_role",
        "iamaccess:review-detail": "iamreview",
        "iamaccess:review-progress": "iamreview",
        "api-iamreview-detail": "iamreview",
        "backfill:cost-tag-backfill-action": "cost_tag_backfill",
        "api-cost-tag-backfill-detail": "cost_tag_backfill",
        "api-cost-tag-backfill-approve": "cost_tag_backfill",
        "api-cost-tag-backfill-reject": "cost_tag_backfill",
    }
)

OBJECTS.update(
    {
        "portal:token-revoke": "token",
        "api-token-item-detail": "token",
        "api-token-item-revoke": "token",
        "domains:sso-group-edit": "mapping",
        "domains:sso-group-delete": "mapping",
        "api-sso-group-mapping-detail": "mapping",
        "domains:person-detail": "person",
        "api-person-detail": "person",
        "domains:person-match-resolve": "person_match",
        "api-person-match-detail": "person_match",
        "api-person-match-resolve": "person_match",
        "domains:dirrun-detail": "dirrun",
        "domains:dirrun-progress": "dirrun",
        "api-dirrun-detail": "dirrun",
    }
)

ALL = dict.fromkeys(ROLES[1:], 200)
ADMIN_ONLY = {"admin": 200, "approver": 404, "finance": 404, "lead": 404, "scientist": 404, "outsider": 404}
APPROVERS = {"admin": 200, "approver": 200, "finance": 404, "lead": 404, "scientist": 404, "outsider": 404}
REQUEST_VIEW = {"admin": 200, "approver": 200, "finance": 404, "lead": 200, "scientist": 200, "outsider": 404}
MEMBERS = {"admin": 200, "approver": 200, "finance": 200, "lead": 200, "scientist": 200, "outsider": 404}
POST_ONLY = {role: 405 for role in ROLES[1:]}

# GET answers per route and role (anonymous: login redirect for pages, 403 for the API, unless listed).
EXPECTED: dict[str, dict[str, int]] = {
    "home": ALL,
    "healthz": {**ALL, "anon": 200},
    "readiness": ADMIN_ONLY,
    "api-readiness": ADMIN_ONLY,
    "api-mail-list": ALL,  # everyone may list; only platform admins find any email there
    "api-mail-detail": ADMIN_ONLY,
    "login": {**dict.fromkeys(ROLES[1:], 302), "anon": 200},
    "logout": {**dict.fromkeys(ROLES, 405)},
    "api-schema": ALL,
    "api-docs": ALL,
    "portal:audit-list": ALL,
    "domains:account-list": ADMIN_ONLY,
    "domains:account-add": ADMIN_ONLY,
    "domains:account-edit": ADMIN_ONLY,
    "domains:account-verify": POST_ONLY,
    "domains:domain-list": ALL,
    "domains:domain-detail": MEMBERS,
    "domains:sync-start": {**POST_ONLY},
    "domains:role-list": ADMIN_ONLY,
    "domains:role-revoke": POST_ONLY,
    "domains:syncrun-list": ALL,
    # A run is seen by the people of the domains it read (domain_arns), not only by those who may sync them.
    "domains:syncrun-detail": MEMBERS,
    "domains:syncrun-progress": {**MEMBERS, **{role: 286 for role, code in MEMBERS.items() if code == 200}},
    "profiles:profile-list": ALL,
    "profiles:profile-detail": {**MEMBERS, "scientist": 200},
    "profiles:open-studio": POST_ONLY,
    "profiles:link-person": POST_ONLY,
    "profiles:space-detail": {**MEMBERS, "scientist": 404},
    "profiles:app-list": ALL,
    "profiles:space-list": ALL,
    "costs:dashboard": ALL,
    "costs:budget-list": ALL,
    "costs:budget-form": {**APPROVERS},
    "costs:ingest-start": POST_ONLY,
    "costs:tag-check": POST_ONLY,
    "costs:run-list": ALL,
    "costs:run-detail": {**ADMIN_ONLY, "finance": 200},
    "costs:run-progress": {**ADMIN_ONLY, "admin": 286, "finance": 286},
    "onboarding:inbox": ALL,
    "onboarding:profile-request-list": ALL,
    "onboarding:profile-request-new": {**APPROVERS, "lead": 200, "scientist": 200, "outsider": 200},
    "onboarding:profile-request-detail": REQUEST_VIEW,
    "onboarding:profile-request-progress": {
        **REQUEST_VIEW,
        **{r: 286 for r in ("admin", "approver", "lead", "scientist")},
    },
    "onboarding:profile-request-action": POST_ONLY,
    "onboarding:space-request-list": ALL,
    "onboarding:space-request-new": {**APPROVERS, "admin": 200, "approver": 404, "lead": 200, "outsider": 200},
    "onboarding:space-estimate": ALL,
    "onboarding:space-request-detail": {**REQUEST_VIEW, "scientist": 404},
    "onboarding:space-request-progress": {**REQUEST_VIEW, "scientist": 404, "admin": 286, "approver": 286, "lead": 286},
    "onboarding:space-request-action": POST_ONLY,
    "onboarding:persona-list": APPROVERS,
    "onboarding:persona-new": APPROVERS,
    "onboarding:persona-edit": APPROVERS,
    "onboarding:space-policy": APPROVERS,
    "onboarding:offboarding-list": APPROVERS,
    "onboarding:offboarding-new": APPROVERS,
    "onboarding:offboarding-detail": APPROVERS,
    "onboarding:offboarding-progress": {**APPROVERS, "admin": 286, "approver": 286},
    "onboarding:offboarding-action": POST_ONLY,
    # API
    "api-account-list": ALL,
    "api-account-detail": ADMIN_ONLY,
    "api-domain-list": ALL,
    "api-domain-detail": MEMBERS,
    "api-syncrun-list": ALL,
    "api-syncrun-detail": MEMBERS,
    "api-role-list": ADMIN_ONLY,
    "api-role-detail": POST_ONLY,
    "api-profile-list": ALL,
    "api-profile-detail": MEMBERS,
    "api-profile-open-studio": POST_ONLY,
    "api-profile-link-person": POST_ONLY,
    "api-space-list": ALL,
    "api-space-detail": {**MEMBERS, "scientist": 404},
    "api-app-list": ALL,
    "api-app-detail": {**MEMBERS, "scientist": 404},
    "api-spend-summary": ALL,
    "api-rollup-list": ALL,
    "api-rollup-detail": {**MEMBERS, "scientist": 404},
    "api-budget-list": ALL,
    "api-budget-detail": {**MEMBERS, "scientist": 404},
    "api-costrun-list": ALL,
    "api-costrun-check-tags": POST_ONLY,
    "api-costrun-detail": {**ADMIN_ONLY, "finance": 200},
    "api-audit-list": ALL,
    "api-audit-detail": APPROVERS,
    "api-profile-request-list": ALL,
    "api-profile-request-detail": REQUEST_VIEW,
    "api-space-request-list": ALL,
    "api-space-request-estimate": {**dict.fromkeys(ROLES[1:], 400)},
    "api-space-request-detail": {**REQUEST_VIEW, "scientist": 404},
    "api-persona-list": ALL,
    "api-persona-detail": {**MEMBERS, "finance": 200},
    "api-space-policy-list": ALL,
    "api-space-policy-detail": {**MEMBERS, "finance": 200},
    "api-offboarding-list": APPROVERS,
    "api-offboarding-proposal-list": APPROVERS,
    "api-offboarding-plan": {**APPROVERS, "admin": 400, "approver": 400},
    "api-offboarding-detail": APPROVERS,
    # Governance: a domain's findings are seen by its member-wide roles; a scientist sees only their own resources'.
    "governance:overview": ALL,  # each sees their domains' posture (a scientist: their own findings' counts)
    "governance:idle": ALL,
    "governance:finding-list": ALL,
    "governance:finding-detail": {**MEMBERS, "scientist": 404},
    "governance:policy": APPROVERS,
    "governance:run-list": ALL,
    "governance:run-detail": MEMBERS,
    "governance:run-progress": {**MEMBERS, **{role: 286 for role, code in MEMBERS.items() if code == 200}},
    "api-finding-list": ALL,
    "api-finding-detail": {**MEMBERS, "scientist": 404},
    "api-finding-accept": POST_ONLY,
    "api-finding-propose-fix": POST_ONLY,
    # A fix is proposed by the domain's approvers (and platform admins): whoever else may only look gets a 404.
    "governance:fix": APPROVERS,
    "api-checks": ALL,
    "api-governance-policy": MEMBERS,
    "api-governance-overview": ALL,
    "api-governance-idle-compliance": ALL,
    "api-governance-idle-apps": ALL,
    # Change sets show other people's settings: the roles that see every member of the domain see them.
    "changesets:list": ALL,
    "changesets:detail": {**MEMBERS, "scientist": 404},
    "changesets:progress": {
        **MEMBERS,
        "scientist": 404,
        **dict.fromkeys(("admin", "approver", "finance", "lead"), 286),
    },
    "changesets:action": POST_ONLY,
    "changesets:edit": APPROVERS,
    "api-change-set-list": ALL,
    "api-change-set-detail": {**MEMBERS, "scientist": 404},
    # Tag backfill: coverage and resources for a domain's member-wide roles; discovery and rules for admins.
    "backfill:coverage": ALL,
    "backfill:discover": POST_ONLY,
    "backfill:resource-list": ALL,
    "backfill:resource-detail": {**MEMBERS, "scientist": 404},
    "backfill:rules": ADMIN_ONLY,
    "backfill:domain-coverage": {**MEMBERS, "scientist": 404},
    "backfill:rule-delete": POST_ONLY,
    "backfill:run-list": ALL,
    # Discovery reads every domain: the people who see every domain (admins, finance everywhere) see its runs.
    "backfill:run-detail": {**ADMIN_ONLY, "finance": 200},
    "backfill:run-progress": {**ADMIN_ONLY, "admin": 286, "finance": 286},
    "api-backfill-coverage": ALL,
    "api-backfill-discover": POST_ONLY,
    "api-backfill-resource-list": ALL,
    "api-backfill-resource-detail": {**MEMBERS, "scientist": 404},
    "api-backfill-resource-except": POST_ONLY,
    "api-backfill-rule-list": ALL,
    "api-backfill-rule-detail": ADMIN_ONLY,
    # Backfill plans: platform admins, and the approvers of the domains a plan tags.
    "backfill:plan-list": ALL,
    "backfill:plan-detail": APPROVERS,
    "backfill:plan-action": POST_ONLY,
    "backfill:apply-list": ALL,
    "backfill:apply-detail": MEMBERS,
    "backfill:apply-progress": {**MEMBERS, **{role: 286 for role, code in MEMBERS.items() if code == 200}},
    "api-backfill-plan-list": ALL,
    "api-backfill-plan-detail": APPROVERS,
    "api-backfill-plan-approve": POST_ONLY,
    "api-backfill-plan-apply": POST_ONLY,
    "api-backfill-plan-cancel": POST_ONLY,
    "api-backfill-plan-items": APPROVERS,
    # Execution roles and their policies: platform admins and the approvers of a domain the role acts in; everyone
    # may open the list, which shows them nothing. A review run is seen like every run, by its domains' people.
    "iamaccess:role-list": ALL,
    # A domain's isolation rollout (what the isolation policy would lock out, the policy once coverage is complete):
    # the people who manage the domain.
    "iamaccess:isolation-rollout": APPROVERS,
    "api-isolation-rollout-detail": APPROVERS,
    "api-isolation-rollout-locked-out": APPROVERS,
    "iamaccess:role-detail": APPROVERS,
    "iamaccess:role-policy": APPROVERS,  # the form; generating needs a policy and a domain
    "api-executionrole-policy": {**APPROVERS, "admin": 400, "approver": 400},
    "api-executionrole-policy-change-set": POST_ONLY,  # proposing: tests/iamaccess/test_apply.py
    "iamaccess:review-start": POST_ONLY,
    "iamaccess:review-list": ALL,
    "iamaccess:review-detail": MEMBERS,
    "iamaccess:review-progress": {**MEMBERS, **{role: 286 for role, code in MEMBERS.items() if code == 200}},
    "api-executionrole-list": ALL,
    "api-executionrole-detail": APPROVERS,
    "api-iamreview-list": ALL,
    "api-iamreview-detail": MEMBERS,
    # Cost allocation tag backfills: a payer account's bill spans domains, so platform admins and finance of every
    # domain only; the others see an empty API list.
    "backfill:cost-tag-backfills": {**ADMIN_ONLY, "finance": 200},
    "backfill:cost-tag-backfill-action": POST_ONLY,
    "api-cost-tag-backfill-list": ALL,
    "api-cost-tag-backfill-detail": {**ADMIN_ONLY, "finance": 200},
    "api-cost-tag-backfill-approve": POST_ONLY,
    "api-cost-tag-backfill-reject": POST_ONLY,
}
# API tokens: everyone has "My tokens"; a token (the scientist's) is seen by its owner and platform admins.
EXPECTED.update(
    {
        "portal:token-list": ALL,
        "portal:token-admin-list": ADMIN_ONLY,
        "portal:token-revoke": POST_ONLY,
        "api-token-item-list": ALL,
        "api-token-item-detail": {**ADMIN_ONLY, "scientist": 200},
        "api-token-item-revoke": POST_ONLY,
        # SSO: the group mapping is for platform admins; the OIDC views answer 404 while no provider is configured.
        "domains:sso-group-list": ADMIN_ONLY,
        "domains:sso-group-edit": ADMIN_ONLY,
        "domains:sso-group-delete": POST_ONLY,
        "api-sso-group-mapping-list": ADMIN_ONLY,
        "api-sso-group-mapping-detail": ADMIN_ONLY,
        "oidc_authentication_init": dict.fromkeys(ROLES, 404),
        "oidc_authentication_callback": dict.fromkeys(ROLES, 404),
    }
)
# The people directory: everyone opens the list (a data scientist finds only themselves); a person is seen by the
# member-wide roles of a domain where they have a profile; matches and directory syncs are platform admins' work.
EXPECTED.update(
    {
        "domains:person-list": ALL,
        "domains:person-detail": {**MEMBERS, "scientist": 404},
        "domains:person-match-list": ADMIN_ONLY,
        "domains:person-match-resolve": POST_ONLY,
        "domains:directory-sync-start": POST_ONLY,
        "domains:dirrun-list": ALL,
        # A directory run spans every domain: the people who see every domain (admins, finance) see it.
        "domains:dirrun-detail": {**ADMIN_ONLY, "finance": 200},
        "domains:dirrun-progress": {**ADMIN_ONLY, "admin": 286, "finance": 286},
        "api-person-list": ALL,
        "api-person-detail": {**MEMBERS, "scientist": 404},
        "api-person-match-list": ALL,
        "api-person-match-detail": ADMIN_ONLY,
        "api-person-match-resolve": POST_ONLY,
        "api-dirrun-list": ALL,
        "api-dirrun-detail": {**ADMIN_ONLY, "finance": 200},
    }
)
# Actions answer GET with 405 before looking anything up (so nothing leaks); who may POST is tested below.
for verb in ("approve", "cancel", "reject", "retry", "retry-now"):
    EXPECTED[f"api-profile-request-{verb}"] = EXPECTED[f"api-space-request-{verb}"] = POST_ONLY
for verb in ("approve", "cancel", "resume", "retry-now"):
    EXPECTED[f"api-offboarding-{verb}"] = POST_ONLY
EXPECTED["api-space-request-extend"] = EXPECTED["api-space-request-delete-space"] = POST_ONLY
for verb in ("approve", "cancel", "reject", "retry", "revert"):
    EXPECTED[f"api-change-set-{verb}"] = POST_ONLY
# The API's description and its root need a login unless API_SCHEMA_PUBLIC is on (tests/portal/test_views.py).
EXPECTED["api-schema"] = EXPECTED["api-root"] = {**ALL, "anon": 403}
EXPECTED["api-docs"] = {**ALL, "anon": 302}
PUBLIC = {
    "healthz",
    "login",
    "logout",
    "api-schema",
    "api-docs",
    "api-root",
    "oidc_authentication_init",
    "oidc_authentication_callback",
}


def routes() -> list[tuple[str, str]]:
    """(name, route) of every named URL, without format suffixes."""
    found: list[tuple[str, str]] = []

    def walk(patterns: list[Any], prefix: str, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                route = prefix + str(pattern.pattern)
                if route.startswith(SKIP) or "format" in route:
                    continue
                found.append((f"{namespace}:{pattern.name}" if namespace else pattern.name, route))

    walk(get_resolver().url_patterns, "", None)
    return sorted(set(found))


@pytest.fixture
def world(aws_sandbox: None) -> World:
    return build_world()


@pytest.fixture
def objects(world: World) -> dict[str, Any]:
    research = world.research
    req = services.do_submit_profile_request(
        actor=world.scientist, person=world.scientist, domain=research, template=world.persona
    )
    own = UserProfile.objects.create(
        domain=research, name="maria", arn=f"{research.arn}/maria", status="InService", owner=world.scientist
    )
    space = Space.objects.create(
        domain=research,
        name="team",
        arn=f"{research.arn}/space/team",
        sharing_type="Shared",
        owner_profile=world.lead_profile,
        status="InService",
    )
    app = App.objects.create(
        domain=research,
        space=space,
        space_name="team",
        app_type="JupyterLab",
        name="default",
        arn=f"{research.arn}/app/team",
        status="InService",
    )
    john = UserFactory(username="john")
    person = Person.objects.create(display_name="John Doe", email="john@example.com", portal_user=john)
    UserProfileFactory(domain=research, name="john", owner=john, person=person, person_source="tag")
    person_match = PersonMatch.objects.create(subject="owner_tag", key="x", label="x", reason="two people")
    person_match.candidates.add(person)
    space_req = services.do_submit_space_request(actor=world.lead, **world.space_fields())
    offboarding = services.do_plan_offboarding(actor=world.approver, person=john, reason="Left")
    execution_role = ExecutionRole.objects.create(
        arn=f"arn:aws:iam::{research.account.account_id}:role/ResearchExecution",
        aws_account_id=research.account.account_id,
        name="ResearchExecution",
    )
    RoleUse.objects.create(role=execution_role, domain=research, kind="profile", profile=own, source="profile override")
    day = timezone.localdate() - timedelta(days=1)
    rollup = SpendRollup.objects.create(
        payer=research.account,
        period="day",
        start=day,
        level="domain",
        domain_arn=research.arn,
        key_arn=research.arn,
        domain=research,
        amount=Decimal("3.00"),
    )
    return {
        "account": research.account,
        "domain": research,
        "profile": own,
        "space": space,
        "app": app,
        "role": RoleAssignment.objects.filter(domain_arn=research.arn).first(),
        "syncrun": TaskRun.objects.create(
            kind="inventory_sync",
            scope={"domain_arn": research.arn},
            scope_label="research",
            trigger="user",
            status="succeeded",
            domain_arns=[research.arn],
        ),
        "costrun": TaskRun.objects.create(
            kind="cost_ingestion",
            scope={"account_id": "payer"},
            scope_label="payer",
            trigger="user",
            status="succeeded",
        ),
        "budget": Budget.objects.create(domain=research, monthly_amount=Decimal("100"), thresholds=[80]),
        "rollup": rollup,
        "audit": AuditEvent.objects.filter(domain_arn=research.arn).first(),
        "profile_request": req,
        "space_request": space_req,
        "persona": world.persona,
        "policy": SpacePolicy.objects.get(domain=research),
        "offboarding": offboarding,
        "mail": OutgoingMail.objects.order_by("pk").first(),
        # The sync's re-evaluation may have found it already (one open finding per check and resource).
        "finding": Finding.objects.filter(check_id="SE-01", resource_arn=research.arn).first()
        or Finding.objects.create(
            check_id="SE-01",
            domain=research,
            resource_arn=research.arn,
            resource_kind="domain",
            resource_name=research.name,
            severity="high",
            first_seen=timezone.now(),
            last_seen=timezone.now(),
        ),
        # A finding a change set can fix (the sync found leila's profile without the sagemaker:domain-arn tag).
        "fix_finding": Finding.objects.get(check_id="CO-05", resource_name="leila", status="open"),
        "posturerun": TaskRun.objects.create(
            kind="posture_check",
            scope={"domain_pk": research.pk},
            scope_label="research",
            trigger="user",
            status="succeeded",
            domain_arns=[research.arn],
        ),
        "legacy_resource": LegacyResource.objects.create(
            arn=f"arn:aws:sagemaker:{research.region}:{research.account.account_id}:training-job/old",
            resource_type="training-job",
            name="old",
            account_id=research.account.account_id,
            region=research.region,
            domain=research,
            domain_arn=research.arn,
            rule="execution-role",
            coverage="attributable",
            first_seen=timezone.now(),
            last_seen=timezone.now(),
        ),
        "rule": AttributionRule.objects.create(kind="name-prefix", prefix="res-", domain=research),
        "discoveryrun": TaskRun.objects.create(
            kind="backfill_discovery",
            scope={},
            scope_label="all accounts and regions",
            trigger="user",
            status="succeeded",
        ),
        "plan": wizard.do_plan("test", domain=research),
        "cost_tag_backfill": CostTagBackfill.objects.create(
            payer=research.account, backfill_from=timezone.localdate().replace(day=1), reason="legacy spend"
        ),
        "applyrun": TaskRun.objects.create(
            kind="backfill_apply",
            scope={"plan_id": 0},
            scope_label="plan",
            trigger="user",
            status="succeeded",
            domain_arns=[research.arn],
        ),
        "execution_role": execution_role,
        "iamreview": TaskRun.objects.create(
            kind="iam_review",
            scope={"domain_arn": research.arn},
            scope_label="research",
            trigger="user",
            status="succeeded",
            domain_arns=[research.arn],
        ),
        "token": do_create_token(world.scientist, name="matrix", actor=world.scientist)[0],
        "mapping": GroupRoleMapping.objects.create(group="sagemaker-research", role="data_scientist"),
        "person": person,
        "person_match": person_match,
        "dirrun": TaskRun.objects.create(
            kind="directory_sync",
            scope={"directory": "all"},
            scope_label="directory",
            trigger="user",
            status="succeeded",
        ),
        "change_set": changeset_services.propose(
            world.approver,
            research,
            "Tag the domain",
            [
                PlannedChange(
                    "AddTags",
                    research.arn,
                    "domain",
                    {"ResourceArn": research.arn, "Tags": [{"Key": "team", "Value": "research"}]},
                    after={"Tags.team": "research"},
                )
            ],
        ),
    }


def url_for(name: str, route: str, objects: dict[str, Any]) -> str:
    kwargs: dict[str, Any] = {}
    if "<int:pk>" in route or "(?P<pk>" in route:
        kwargs["pk"] = objects[OBJECTS[name]].pk
    if "domain_pk" in route:
        kwargs["domain_pk"] = objects["domain"].pk
    if "<str:domain_id>" in route:
        kwargs["domain_id"] = objects["domain"].domain_id
    if "<str:kind>" in route:
        kwargs["kind"] = "profile"
    if "<str:action>" in route:
        kwargs["action"] = "approve"
    if name == "governance:fix":  # the fix preview names its findings in the query string
        return f"{reverse(name)}?findings={objects['fix_finding'].pk}"
    return reverse(name, kwargs=kwargs)


def test_every_route_has_a_row_in_the_matrix() -> None:
    names = {name for name, _ in routes()}
    assert sorted(names - set(EXPECTED)) == [], "add the new routes to EXPECTED"
    assert sorted(set(EXPECTED) - names) == [], "remove the routes that no longer exist"


def test_the_permission_matrix(world: World, objects: dict[str, Any]) -> None:
    people = {
        "admin": world.admin,
        "approver": world.approver,
        "finance": world.finance,
        "lead": world.lead,
        "scientist": world.scientist,
        "outsider": world.outsider,
    }
    clients = {"anon": Client()}
    for role, user in people.items():
        clients[role] = Client()
        clients[role].force_login(user)
    wrong: list[str] = []
    checked = 0
    for name, route in routes():
        url = url_for(name, route, objects)
        for role in ROLES:
            if role == "anon" and name not in PUBLIC:
                expected = 403 if name.startswith("api-") else 302
            else:
                expected = EXPECTED[name][role]
            status = clients[role].get(url).status_code
            checked += 1
            if status != expected:
                wrong.append(f"GET {url} as {role}: {status}, expected {expected}")
    assert not wrong, "\n".join(wrong)
    assert checked == len(routes()) * len(ROLES)


POSTS = [
    ("onboarding:profile-request-action", "profile_request", ("approve", "reject", "cancel", "retry", "retry-now")),
    (
        "onboarding:space-request-action",
        "space_request",
        ("approve", "reject", "cancel", "retry", "retry-now", "extend", "delete"),
    ),
    ("onboarding:offboarding-action", "offboarding", ("approve", "cancel", "resume", "retry-now")),
    ("changesets:action", "change_set", ("approve", "reject", "cancel", "retry", "revert")),
]


def test_people_without_the_right_cannot_act(world: World, objects: dict[str, Any]) -> None:
    """Actions posted by anonymous visitors, finance and the outsider: a login redirect or 404, nothing changes."""
    before = {
        key: type(objects[key]).objects.get(pk=objects[key].pk).status
        for key in ("profile_request", "space_request", "offboarding", "change_set")
    }
    events = AuditEvent.objects.count()
    for role, user in (("anon", None), ("finance", world.finance), ("outsider", world.outsider)):
        client = Client()
        if user is not None:
            client.force_login(user)
        for name, key, verbs in POSTS:
            for verb in verbs:
                response = client.post(
                    reverse(name, kwargs={"pk": objects[key].pk, "action": verb}),
                    {"reason": "no", "expires_on": "2030-01-01"},
                )
                assert response.status_code == (302 if role == "anon" else 404), (role, name, verb)
        for base in ("api-profile-request", "api-space-request", "api-offboarding", "api-change-set"):
            key = {
                "api-profile-request": "profile_request",
                "api-space-request": "space_request",
                "api-change-set": "change_set",
            }.get(base, "offboarding")
            verbs = ("approve", "cancel", "reject", "retry", "retry-now", "resume", "extend", "delete-space", "revert")
            for verb in verbs:
                try:
                    url = reverse(f"{base}-{verb}", args=[objects[key].pk])
                except Exception:  # noqa: BLE001 - not every viewset has every verb
                    continue
                response = client.post(url, {"reason": "no", "expires_on": "2030-01-01"})
                assert response.status_code == (403 if role == "anon" else 404), (role, url)
    after = {key: type(objects[key]).objects.get(pk=objects[key].pk).status for key in before}
    assert after == before
    assert AuditEvent.objects.count() == events


def test_requests_lists_show_each_role_its_share(world: World, objects: dict[str, Any]) -> None:
    def visible(user: Any, url: str) -> int:
        client = Client()
        client.force_login(user)
        return client.get(url).json()["count"]

    counts = {
        role: (
            visible(user, "/api/profile-requests/"),
            visible(user, "/api/space-requests/"),
            visible(user, "/api/offboardings/") if role in ("admin", "approver") else None,
        )
        for role, user in (
            ("admin", world.admin),
            ("approver", world.approver),
            ("lead", world.lead),
            ("scientist", world.scientist),
            ("finance", world.finance),
            ("outsider", world.outsider),
        )
    }
    assert counts == {
        "admin": (1, 1, 1),
        "approver": (1, 1, 1),
        "lead": (1, 1, None),
        "scientist": (1, 0, None),
        "finance": (0, 0, None),
        "outsider": (0, 0, None),
    }
    assert SpaceRequest.objects.count() == 1 and Offboarding.objects.count() == 1


def test_governance_overview_and_idle_compliance_show_each_role_its_share(
    world: World, objects: dict[str, Any]
) -> None:
    """Finance and leads read their domains' posture; a data scientist only the counts of their own resources'
    findings (no domain-wide trend) and their own profiles' idle shutdown; nobody reads another domain."""

    def get(user: Any, url: str) -> Any:
        client = Client()
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        return response.json()

    people = {
        "admin": world.admin,
        "approver": world.approver,
        "finance": world.finance,
        "lead": world.lead,
        "scientist": world.scientist,
        "outsider": world.outsider,
    }
    posture = {
        role: {d["name"]: d["domain_wide"] for d in get(user, "/api/governance/overview/")["domains"]}
        for role, user in people.items()
    }
    assert posture == {
        "admin": {"research": True, "risk": True, "other": True},
        "approver": {"research": True, "risk": True},
        "finance": {"research": True, "risk": True, "other": True},
        "lead": {"research": True},
        "scientist": {"research": False, "risk": False},
        "outsider": {"other": True},
    }
    profiles = {
        role: {d["name"]: d["profiles"]["total"] for d in get(user, "/api/governance/idle-compliance/")["domains"]}
        for role, user in people.items()
    }
    assert profiles["scientist"] == {"research": 1, "risk": 0}  # maria's own profile only
    assert profiles["approver"]["research"] == profiles["admin"]["research"] == 3  # leila, maria, john
    assert "research" not in profiles["outsider"]


def test_only_admins_and_finance_decide_cost_tag_backfills(world: World, objects: dict[str, Any]) -> None:
    """Approvers, leads, scientists and the outsider: 404 on the page's actions and the API's, nothing changes."""
    backfill = objects["cost_tag_backfill"]
    events = AuditEvent.objects.count()
    for user in (world.approver, world.lead, world.scientist, world.outsider):
        client = Client()
        client.force_login(user)
        for verb in ("approve", "reject"):
            page = client.post(reverse("backfill:cost-tag-backfill-action", kwargs={"pk": backfill.pk, "action": verb}))
            api = client.post(reverse(f"api-cost-tag-backfill-{verb}", args=[backfill.pk]))
            assert (page.status_code, api.status_code) == (404, 404), (user, verb)
        made = client.post(reverse("api-cost-tag-backfill-list"), {"payer": "x", "backfill_from": "2020-01-01"})
        assert made.status_code == 403
    assert CostTagBackfill.objects.get(pk=backfill.pk).status == "proposed"
    assert CostTagBackfill.objects.count() == 1 and AuditEvent.objects.count() == events


def test_nobody_else_revokes_a_token_or_changes_the_group_mapping(world: World, objects: dict[str, Any]) -> None:
    token, mapping = objects["token"], objects["mapping"]
    events = AuditEvent.objects.count()
    for role, user in (("anon", None), ("approver", world.approver), ("outsider", world.outsider)):
        client = Client()
        if user is not None:
            client.force_login(user)
        expected = 302 if role == "anon" else 404
        assert client.post(reverse("portal:token-revoke", args=[token.pk])).status_code == expected
        assert client.post(reverse("domains:sso-group-delete", args=[mapping.pk])).status_code == expected
        api = 403 if role == "anon" else 404
        assert client.post(reverse("api-token-item-revoke", args=[token.pk])).status_code == api
        assert client.delete(reverse("api-sso-group-mapping-detail", args=[mapping.pk])).status_code == api
    token.refresh_from_db()
    assert token.state == "active" and GroupRoleMapping.objects.filter(pk=mapping.pk).exists()
    assert AuditEvent.objects.count() == events
