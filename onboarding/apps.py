from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "onboarding"
    verbose_name = "Onboarding: requests, provisioning and offboarding"

    def ready(self) -> None:
        from onboarding import (
            panels,
            tasks,  # noqa: F401 - fills onboarding.work.WORK_TASKS, which the services hand out by
        )
        from onboarding.services import AUDIT_ACTIONS
        from portal.registry import MenuEntry, Panel, approvers, registry

        registry.add_audit_actions(AUDIT_ACTIONS)
        registry.add_urls("onboarding.urls")
        registry.add_api_urls("onboarding.api.urls")
        registry.add_menu(MenuEntry("Requests", "onboarding:inbox", order=60))
        registry.add_menu(MenuEntry("Offboarding", "onboarding:offboarding-list", order=70, visible=approvers))
        registry.add_panel(Panel("person", "onboarding/_person_offboarding_panel.html", panels.person_offboarding))
