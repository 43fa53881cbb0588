from django.apps import AppConfig


class DomainsConfig(AppConfig):
    name = "domains"

    def ready(self) -> None:
        from domains.services import AUDIT_ACTIONS
        from domains.sync import INVENTORY_SYNC
        from portal.registry import MenuEntry, admins, registry

        registry.add_audit_actions(AUDIT_ACTIONS)
        registry.add_urls("domains.urls")
        registry.add_api_urls("domains.api.urls")
        registry.add_run_kind(INVENTORY_SYNC)
        registry.add_menu(MenuEntry("Accounts", "domains:account-list", order=20, visible=admins))
        registry.add_menu(MenuEntry("Domains", "domains:domain-list", order=30))
        registry.add_menu(MenuEntry("Sync runs", "domains:syncrun-list", order=100))
        registry.add_menu(MenuEntry("Roles", "domains:role-list", order=120, visible=admins))
