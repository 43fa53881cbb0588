from django.apps import AppConfig


class ChangesetsConfig(AppConfig):
    name = "changesets"
    verbose_name = "Change sets: approved changes to Studio resources"

    def ready(self) -> None:
        from changesets import tasks  # noqa: F401 - fills changesets.work.WORK_TASKS
        from changesets.panels import inbox_context, register_panels
        from changesets.services import AUDIT_ACTIONS
        from portal.registry import InboxSection, MenuEntry, approvers, registry

        registry.add_audit_actions(AUDIT_ACTIONS)
        registry.add_urls("changesets.urls")
        registry.add_api_urls("changesets.api.urls")
        registry.add_menu(MenuEntry("Change sets", "changesets:list", order=75, visible=approvers))
        registry.add_inbox_section(InboxSection("changesets/_inbox_section.html", inbox_context, order=50))
        register_panels()
