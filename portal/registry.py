"""What the apps above the portal contribute to it, registered from their ``AppConfig.ready()``.

The portal layer never names an upper app (no import, no URL name, no task name): each app adds here its URLs, its
menu entries, the kinds of background run it records as :class:`portal.models.TaskRun` with their pages, and the
panels it shows on the domain, profile and space pages, and the sections it adds to the approver inbox
(:meth:`Registry.add_inbox_section`). The portal's URLconf, navigation, run pages and detail
pages read this registry.

Each app also registers the names of the audit events it writes (:meth:`Registry.add_audit_actions`): the one
list of audit actions, which :func:`portal.audit.record` enforces and the audit log's filter offers.

Governance checks are contributed the same way, in the spirit of Django's system checks
(:meth:`Registry.add_check`): a :class:`Check` has an id (the ids of GOVERNANCE.md, e.g. ``"CO-01"``), a title, a
severity (``"high"``, ``"medium"`` or ``"low"``, or a function of the resource answering one of them, e.g. high on
GPU instances), the resource kinds it reads (``"domain"``, ``"profile"``, ``"space"``, ``"app"``), the AWS page
behind it, whether a change set can fix it, and ``run``: a plain function over one domain's inventory rows (the
object the governance engine passes: ``.domain``, ``.policy``, ``.profiles``, ``.spaces``, ``.apps``, ``.now``)
that yields :class:`Found` items, each naming the resource and carrying its :class:`Evidence` (the field, its value
and where the value came from: "profile override", "domain default", "DescribeApp"...). The governance engine
re-evaluates what the inventory writers changed through :data:`domains.signals.resources_changed`.

Example, in ``costs/apps.py``::

    def ready(self) -> None:
        from portal.registry import MenuEntry, registry
        registry.add_urls("costs.urls")
        registry.add_menu(MenuEntry("Costs", "costs:dashboard", order=80))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from portal.scoping import APPROVE, Grants

Visibility = Callable[[Grants], bool]


def everyone(grants: Grants) -> bool:
    return True


def admins(grants: Grants) -> bool:
    return grants.is_admin


def approvers(grants: Grants) -> bool:
    """People who approve in at least one domain."""
    return bool(grants.domains_for(APPROVE))


@dataclass(frozen=True)
class MenuEntry:
    """An item of the main menu: shown, in ``order``, to the people for whom ``visible(grants)`` is true (hide it
    from those who would only get a 404 there)."""

    label: str
    url_name: str
    order: int
    visible: Visibility = everyone


@dataclass(frozen=True)
class RunKind:
    """A kind of :class:`portal.models.TaskRun`: its label and its pages, named ``<url_prefix>-list``, ``-detail``
    and ``-progress`` (:func:`portal.run_views.run_urls` makes them). People who may do ``seen_with`` in every
    domain see every run of this kind (e.g. finance every cost ingestion)."""

    kind: str
    label: str
    url_prefix: str
    seen_with: str | None = None


@dataclass(frozen=True)
class Panel:
    """A section of a detail page (``page`` is "domain", "profile", "space" or "person", or "coverage": a domain's
    tag coverage page, whose object is the domain), or a notice on the cost dashboard (``page`` "costs", whose object
    is None): ``template`` rendered with what ``context(request, obj)`` answers, or not shown at all when it answers
    None (e.g. the person may not see it)."""

    page: str
    template: str
    context: Callable[[Any, Any], dict[str, Any] | None]
    order: int = 100


PANEL_PAGES = ("domain", "profile", "space", "costs", "coverage", "person")

SEVERITIES = ("high", "medium", "low")
CHECK_RESOURCE_KINDS = ("domain", "profile", "space", "app")


@dataclass(frozen=True)
class Evidence:
    """One value a check read: the field (a readable path), its value, and where the value came from."""

    field: str
    value: Any
    source: str

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "source": self.source}


@dataclass(frozen=True)
class Found:
    """What a check yields for one failing resource. ``resource`` is the inventory row (a domain, profile, space
    or app model instance, with ``arn``); ``details`` is a short sentence saying what is wrong."""

    resource: Any
    kind: str
    details: str
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    severity: str | Callable[[Any, Any], str]
    reads: tuple[str, ...]
    docs: str
    run: Callable[[Any], Any]
    fixable: bool = False
    fix: str = ""

    def __post_init__(self) -> None:
        if not callable(self.severity) and self.severity not in SEVERITIES:
            raise ValueError(f"Check {self.id}: severity must be one of {', '.join(SEVERITIES)} or a function.")
        unknown = set(self.reads) - set(CHECK_RESOURCE_KINDS)
        if unknown or not self.reads:
            raise ValueError(f"Check {self.id}: reads one or more of {', '.join(CHECK_RESOURCE_KINDS)}.")

    def severity_of(self, found: Found, inventory: Any) -> str:
        """The severity of one finding: fixed, or the check's function of the resource (and its inventory)."""
        return self.severity(found, inventory) if callable(self.severity) else self.severity


@dataclass(frozen=True)
class InboxSection:
    """A section of the approver inbox (``/requests/``) from an app the inbox does not know: ``template`` rendered
    with what ``context(request)`` answers, or not shown at all when it answers None (nothing for this person)."""

    template: str
    context: Callable[[Any], dict[str, Any] | None]
    order: int = 100


@dataclass(frozen=True)
class PersonColumn:
    """A column of the people list and a line of the person page (e.g. spend this month, open findings) from an
    app above the directory: ``values(request, person_ids)`` answers ``{person id: value}`` for the people shown,
    in a fixed number of queries, counting only what ``request.user`` may see; a person missing from the answer
    shows a dash."""

    key: str
    label: str
    values: Callable[[Any, list[int]], dict[int, Any]]
    order: int = 100
    numeric: bool = True


@dataclass
class Registry:
    urls: list[tuple[str, str]] = field(default_factory=list)
    api_urls: list[str] = field(default_factory=list)
    menu: list[MenuEntry] = field(default_factory=list)
    run_kinds: dict[str, RunKind] = field(default_factory=dict)
    panels: list[Panel] = field(default_factory=list)
    inbox_sections: list[InboxSection] = field(default_factory=list)
    checks: dict[str, Check] = field(default_factory=dict)
    member_sync_task: Any = None
    audit_actions: dict[str, str] = field(default_factory=dict)
    rereaders: dict[str, Callable[[Any, list[str]], None]] = field(default_factory=dict)
    role_advisor: Callable[..., dict[str, Any]] | None = None
    person_columns: list[PersonColumn] = field(default_factory=list)

    def add_person_column(self, column: PersonColumn) -> None:
        """A column of the people directory from an upper app (see :class:`PersonColumn`)."""
        if all(known.key != column.key for known in self.person_columns):
            self.person_columns.append(column)
            self.person_columns.sort(key=lambda c: (c.order, c.key))

    def add_urls(self, module: str, prefix: str = "") -> None:
        """An app's page URLconf (it sets its own ``app_name``), included under ``prefix``."""
        if (prefix, module) not in self.urls:
            self.urls.append((prefix, module))

    def add_api_urls(self, module: str) -> None:
        """An app's API URLconf, included under ``/api/``."""
        if module not in self.api_urls:
            self.api_urls.append(module)

    def add_menu(self, entry: MenuEntry) -> None:
        if entry not in self.menu:
            self.menu.append(entry)
            self.menu.sort(key=lambda e: (e.order, e.label))

    def add_run_kind(self, run_kind: RunKind) -> None:
        known = self.run_kinds.get(run_kind.kind)
        if known is not None and known != run_kind:
            raise ValueError(f"Run kind {run_kind.kind!r} is registered twice, differently.")
        self.run_kinds[run_kind.kind] = run_kind
        self.add_audit_actions({f"{run_kind.kind}.finished": f"{run_kind.label} finished"})

    def run_kind(self, kind: str) -> RunKind:
        try:
            return self.run_kinds[kind]
        except KeyError:
            raise LookupError(f"No app registered the run kind {kind!r}.") from None

    def add_panel(self, panel: Panel) -> None:
        if panel.page not in PANEL_PAGES:
            raise ValueError(f"Panels go on the {', '.join(PANEL_PAGES)} pages, not {panel.page!r}.")
        if panel not in self.panels:
            self.panels.append(panel)
            self.panels.sort(key=lambda p: p.order)

    def panels_for(self, page: str) -> list[Panel]:
        return [panel for panel in self.panels if panel.page == page]

    def add_inbox_section(self, section: InboxSection) -> None:
        """Work waiting for approvers that the inbox shows beside the requests (e.g. change sets)."""
        if section not in self.inbox_sections:
            self.inbox_sections.append(section)
            self.inbox_sections.sort(key=lambda s: s.order)

    def set_member_sync_task(self, task: Any) -> None:
        """The Celery task (with ``.delay(run_id, domain_pk)``) that syncs a domain's members, for the inventory
        sync to hand each domain on to the app that owns profiles, spaces and apps."""
        self.member_sync_task = task

    def add_audit_actions(self, actions: Mapping[str, str]) -> None:
        """Names (``<object>.<verb>``) and labels of the audit events an app writes: the one list of audit actions
        that :func:`portal.audit.record` accepts and the audit log filters by."""
        for action, label in actions.items():
            if self.audit_actions.get(action, label) != label:
                raise ValueError(f"Audit action {action!r} is registered twice, differently.")
            self.audit_actions[action] = label

    def add_rereader(self, resource_kind: str, reread: Callable[[Any, list[str]], None]) -> None:
        """The app that keeps resources of ``resource_kind`` the inventory does not (e.g. IAM roles) reads them again
        after a change set changed them: ``reread(domain, arns)``, called by the change-set applier before it tells
        listeners the change set is applied."""
        known = self.rereaders.get(resource_kind)
        if known is not None and known != reread:
            raise ValueError(f"Resources of kind {resource_kind!r} have a re-reader already.")
        self.rereaders[resource_kind] = reread

    def set_role_advisor(self, advise: Callable[..., dict[str, Any]]) -> None:
        """The app that knows what execution roles allow answers whether a role enforces what a persona hides:
        ``advise(domain, role_arn, *, hidden_app_types, hidden_ml_tools, allowed_instance_types)`` gives
        ``{"status": "enforced" | "leaks" | "unknown", "message", "leaks": [...], "deny": policy or None,
        "role_url": str}``. Without one, personas are saved without that check."""
        self.role_advisor = advise

    def advise_on_role(self, domain: Any, role_arn: str, **hidden: Any) -> dict[str, Any] | None:
        return self.role_advisor(domain, role_arn, **hidden) if self.role_advisor is not None else None

    def add_check(self, check: Check) -> None:
        """A governance check (see the module's docstring), run by the governance engine over every domain."""
        known = self.checks.get(check.id)
        if known is not None and known != check:
            raise ValueError(f"Governance check {check.id!r} is registered twice.")
        self.checks[check.id] = check


registry = Registry()


def audit_action_choices() -> list[tuple[str, str]]:
    """The registered audit actions as field choices (``AuditEvent.action``), in name order."""
    return sorted(registry.audit_actions.items())
