from django.apps import AppConfig


class IamAccessConfig(AppConfig):
    name = "iamaccess"
    verbose_name = "IAM access"

    def ready(self) -> None:
        from iamaccess import checks, panels, personas, review
        from portal.registry import MenuEntry, Panel, approvers, registry

        for check in checks.CHECKS:
            registry.add_check(check)
        registry.add_run_kind(review.IAM_REVIEW)
        registry.add_rereader("role", review.reread_roles)
        registry.set_role_advisor(personas.advise)
        registry.add_urls("iamaccess.urls")
        registry.add_api_urls("iamaccess.api.urls")
        registry.add_menu(MenuEntry("Execution roles", "iamaccess:role-list", order=77, visible=approvers))
        registry.add_panel(Panel("domain", "iamaccess/_domain_roles_panel.html", panels.domain_roles, order=60))
        registry.add_panel(
            Panel("coverage", "iamaccess/_isolation_rollout_panel.html", panels.isolation_rollout, order=50)
        )
