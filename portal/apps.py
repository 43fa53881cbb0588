from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from portal import (
            apitokens,
            checks,  # noqa: F401 - registers the system checks
            tasks,  # noqa: F401 - registers the tasks that portal.mail hands email to by name, in
        )

        # every process (the web tier too, where Celery's autodiscovery imports nothing until a worker starts)
        from portal.registry import MenuEntry, registry
        from portal.roles import AUDIT_ACTIONS

        registry.add_audit_actions(AUDIT_ACTIONS)
        registry.add_audit_actions(apitokens.AUDIT_ACTIONS)
        registry.add_menu(MenuEntry("Overview", "home", order=10))
        registry.add_menu(MenuEntry("Audit log", "portal:audit-list", order=110))
        registry.add_menu(MenuEntry("API", "api-docs", order=130))
