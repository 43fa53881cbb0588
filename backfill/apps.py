from django.apps import AppConfig


class BackfillConfig(AppConfig):
    name = "backfill"

    def ready(self) -> None:
        from backfill import checks, costtags, discovery, inbox, services, wizard
        from portal.registry import InboxSection, MenuEntry, Panel, registry
        from portal.scoping import MEMBER_WIDE_ROLES, Grants

        def readers(grants: Grants) -> bool:
            return grants.is_admin or bool(grants.domains_for("view", roles=MEMBER_WIDE_ROLES))

        registry.add_check(checks.TG02)
        registry.add_audit_actions(services.AUDIT_ACTIONS)
        registry.add_audit_actions(wizard.AUDIT_ACTIONS)
        registry.add_audit_actions(costtags.AUDIT_ACTIONS)
        registry.add_run_kind(discovery.BACKFILL_DISCOVERY)
        registry.add_run_kind(wizard.BACKFILL_APPLY)
        registry.add_urls("backfill.urls")
        registry.add_api_urls("backfill.api.urls")
        registry.add_menu(MenuEntry("Tag backfill", "backfill:coverage", order=76, visible=readers))
        registry.add_inbox_section(InboxSection("backfill/_inbox_section.html", inbox.inbox_context, order=60))
        registry.add_inbox_section(
            InboxSection("backfill/_inbox_cost_tags.html", inbox.cost_tag_inbox_context, order=61)
        )
        registry.add_panel(Panel("costs", "backfill/_cost_tag_notice.html", costtags.spend_notice, order=10))
