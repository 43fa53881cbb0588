from django.apps import AppConfig


class CostsConfig(AppConfig):
    name = "costs"

    def ready(self) -> None:
        from costs import panels, people, tag_check
        from costs.budgets import AUDIT_ACTIONS
        from costs.ingest import COST_INGESTION
        from portal.registry import MenuEntry, Panel, PersonColumn, registry

        registry.add_audit_actions(AUDIT_ACTIONS)
        registry.add_audit_actions(tag_check.AUDIT_ACTIONS)
        registry.add_urls("costs.urls")
        registry.add_api_urls("costs.api.urls")
        registry.add_run_kind(COST_INGESTION)
        registry.add_menu(MenuEntry("Costs", "costs:dashboard", order=80))
        registry.add_person_column(PersonColumn("spend", "Spend this month", people.spend_this_month, order=10))
        registry.add_panel(Panel("domain", "costs/_domain_budget_panel.html", panels.domain_budget, order=10))
