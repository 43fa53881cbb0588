"""Demo data of the domains app: the demo organisation's accounts, a first sync, and the demo logins' roles."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model

from domains.models import AwsAccount, Domain
from domains.people import start_directory_sync
from domains.services import do_add_account
from domains.sync import start_inventory_sync
from portal.models import RoleAssignment, TaskRun
from portal.roles import do_assign_role
from portal.runs import summary_text

Role = RoleAssignment.Role
# The research account lets the portal write IAM (an approver can apply a generated policy through a change set);
# the regulated payer account does not (its policies are downloaded and applied by its own pipeline).
IAM_WRITABLE_ACCOUNT = "271828182845"

# login -> [(role, domain name or "" for every domain)]
DEMO_ROLES: dict[str, list[tuple[str, str]]] = {
    "approver": [
        (Role.DOMAIN_APPROVER, "risk-analytics"),
        (Role.DOMAIN_APPROVER, "payments-fraud"),
        (Role.DOMAIN_APPROVER, "research-lab"),
        (Role.DOMAIN_APPROVER, "quickstart-sandbox"),
    ],
    "finance": [(Role.FINANCE, "")],
    "lead": [(Role.TEAM_LEAD, "research-lab"), (Role.DATA_SCIENTIST, "research-lab")],
    "scientist": [
        (Role.DATA_SCIENTIST, "research-lab"),
        (Role.DATA_SCIENTIST, "quickstart-sandbox"),
        (Role.DATA_SCIENTIST, "payments-fraud"),
    ],
}


def setup_demo(log: Callable[[str], None]) -> None:
    from awssandbox import organisation  # the demo runs in sandbox mode only: see portal.sandboxing

    for account_id, name in organisation.DEMO_ACCOUNTS.items():
        if AwsAccount.objects.filter(account_id=account_id).exists():
            continue
        do_add_account(
            actor="demo",
            account_id=account_id,
            name=name,
            regions=list(organisation.REGIONS),
            role_arn=organisation.role_arn(account_id),
            external_id=organisation.EXTERNAL_IDS.get(account_id, ""),
            is_payer=account_id == organisation.PAYER_ACCOUNT_ID,
            enabled=True,
            portal_writes_iam=account_id == IAM_WRITABLE_ACCOUNT,
        )
        log(f"Added AWS account {account_id} ({name}).")
    run, _ = start_inventory_sync(trigger=TaskRun.Trigger.COMMAND, inline=True)
    log(f"Inventory sync #{run.pk}: {run.get_status_display()}, {summary_text(run)}.")
    directory, _ = start_directory_sync(trigger=TaskRun.Trigger.COMMAND, inline=True)
    log(f"Directory sync #{directory.pk}: {directory.get_status_display()}, {summary_text(directory)}.")
    users = get_user_model().objects.in_bulk(list(DEMO_ROLES), field_name="username")
    domains = {d.name: d for d in Domain.objects.filter(removed_at__isnull=True)}
    for username, roles in DEMO_ROLES.items():
        user = users.get(username)
        if user is None:
            continue
        for role, domain_name in roles:
            domain = domains.get(domain_name) if domain_name else None
            if domain_name and domain is None:
                log(f"Domain {domain_name} is not in the inventory; {username} gets no {role} role there.")
                continue
            do_assign_role(user, role, domain_arn=domain.arn if domain else "", actor="demo")
    _map_team_groups(domains, log)


def _map_team_groups(domains: dict[str, Domain], log: Callable[[str], None]) -> None:
    """Each SSO domain's Identity Center team group makes its members data scientists of that domain when they log
    in through the sandbox's identity provider ("Log in with SSO"); the platform team's approvers come from the
    approvers' group of the identity provider, which the demo has not: they keep their local roles."""
    from awssandbox import organisation
    from portal.models import GroupRoleMapping
    from portal.sso import do_save_mapping

    for plan in organisation.DOMAINS:
        domain = domains.get(plan.name)
        if plan.auth_mode != "SSO" or domain is None:
            continue
        group = organisation.team_group(plan)
        if GroupRoleMapping.objects.filter(group=group, role=Role.DATA_SCIENTIST).exists():
            continue
        do_save_mapping(actor="demo", group=group, role=Role.DATA_SCIENTIST, domain_arns=[domain.arn])
        log(f"SSO group {group}: data scientists of {domain.name}.")
