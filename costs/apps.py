from django.apps import AppConfig


class CostsConfig(AppConfig):
    name = "costs"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from costs import panels, people, reports, tag_check
        from costs.budgets import AUDIT_ACTIONS
        from costs.ingest import COST_INGESTION
        from costs.models import Budget
        from domains.models import Domain
        from domains.signals import domains_removed, resources_changed
        from portal.registry import MenuEntry, Panel, PersonColumn, registry
        from profiles.models import Space, UserProfile

        registry.add_audit_actions(AUDIT_ACTIONS)
        registry.add_audit_actions(tag_check.AUDIT_ACTIONS)
        registry.add_urls("costs.urls")
        registry.add_api_urls("costs.api.urls")
        registry.add_run_kind(COST_INGESTION)
        registry.add_menu(MenuEntry("Costs", "costs:dashboard", order=80))
        registry.add_person_column(PersonColumn("spend", "Spend this month", people.spend_this_month, order=10))
        registry.add_panel(Panel("domain", "costs/_domain_budget_panel.html", panels.domain_budget, order=10))

        # A rendered dashboard shows the inventory's names and links and the budgets: a change to either is a new
        # marker, so no cached rendering outlives it (costs.reports.cached_rendering).
        def inventory_changed(**kwargs: object) -> None:
            reports.bump("inventory")

        def budgets_changed(**kwargs: object) -> None:
            reports.bump("budgets")

        resources_changed.connect(inventory_changed, weak=False, dispatch_uid="costs.inventory_changed")
        domains_removed.connect(inventory_changed, weak=False, dispatch_uid="costs.domains_removed")
        for model in (Domain, UserProfile, Space):
            post_delete.connect(inventory_changed, sender=model, weak=False, dispatch_uid=f"costs.{model.__name__}")
        post_save.connect(inventory_changed, sender=Domain, weak=False, dispatch_uid="costs.domain_saved")  # names
        post_save.connect(budgets_changed, sender=Budget, weak=False, dispatch_uid="costs.budget_saved")
        post_delete.connect(budgets_changed, sender=Budget, weak=False, dispatch_uid="costs.budget_deleted")
