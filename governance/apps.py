from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"

    def ready(self) -> None:
        from changesets.signals import change_set_applied
        from domains.signals import resources_changed
        from governance import checks, engine, panels, people, proposals, reevaluate, services
        from portal.registry import MenuEntry, PersonColumn, registry

        for check in checks.CHECKS:
            registry.add_check(check)
        registry.add_audit_actions(services.AUDIT_ACTIONS)
        registry.add_audit_actions(proposals.AUDIT_ACTIONS)
        registry.add_run_kind(engine.POSTURE_CHECK)
        registry.add_urls("governance.urls")
        registry.add_api_urls("governance.api.urls")
        registry.add_menu(MenuEntry("Governance", "governance:overview", order=75))
        registry.add_person_column(PersonColumn("findings", "Open findings", people.open_findings, order=20))
        panels.register_panels()
        resources_changed.connect(engine.on_resources_changed, dispatch_uid="governance.evaluate_changed")
        change_set_applied.connect(reevaluate.on_change_set_applied, dispatch_uid="governance.after_change_set")
