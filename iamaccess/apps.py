from django.apps import AppConfig


class IamAccessConfig(AppConfig):
    name = "iamaccess"
    verbose_name = "IAM access"

    def ready(self) -> None:
        from iamaccess import checks, review
        from portal.registry import MenuEntry, approvers, registry

        for check in checks.CHECKS:
            registry.add_check(check)
        registry.add_run_kind(review.IAM_REVIEW)
        registry.add_urls("iamaccess.urls")
        registry.add_api_urls("iamaccess.api.urls")
        registry.add_menu(MenuEntry("Execution roles", "iamaccess:role-list", order=77, visible=approvers))
