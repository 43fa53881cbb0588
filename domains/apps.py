from typing import Any

from django.apps import AppConfig


def people_visible(grants: Any) -> bool:
    """Admins, approvers, finance and team leads: the people who see others in the directory."""
    from portal.scoping import MEMBER_WIDE_ROLES

    return bool(grants.domains_for("view", roles=MEMBER_WIDE_ROLES))


class DomainsConfig(AppConfig):
    name = "domains"

    def ready(self) -> None:
        from domains import people
        from domains.services import AUDIT_ACTIONS
        from domains.sync import INVENTORY_SYNC
        from portal.registry import MenuEntry, admins, registry

        registry.add_audit_actions(AUDIT_ACTIONS)
        registry.add_audit_actions(people.AUDIT_ACTIONS)
        registry.add_run_kind(people.DIRECTORY_SYNC)
        registry.add_menu(MenuEntry("People", "domains:person-list", order=35, visible=people_visible))
        registry.add_urls("domains.urls")
        registry.add_api_urls("domains.api.urls")
        registry.add_run_kind(INVENTORY_SYNC)
        registry.add_menu(MenuEntry("Accounts", "domains:account-list", order=20, visible=admins))
        registry.add_menu(MenuEntry("Domains", "domains:domain-list", order=30))
        registry.add_menu(MenuEntry("Sync runs", "domains:syncrun-list", order=100))
        registry.add_menu(MenuEntry("Roles", "domains:role-list", order=120, visible=admins))
