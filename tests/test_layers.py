"""The project's structure: no import cycle, imports point down the layers, a lower layer never names an upper app.

Layers, bottom up: portal < domains < profiles < costs, onboarding, changesets < governance (the apps of one layer do
not import each other).
Upper apps contribute to lower ones through :mod:`portal.registry`, from their ``AppConfig.ready()``.

The AWS sandbox (``awssandbox``) is a layer apart, below nothing and above nothing: it never imports the portal's
apps, and they import it only inside the functions of the sandbox-mode entry points (``SANDBOX_IMPORTERS``), so a
production install without it (and without moto) imports every module of the portal.

Run ``python -m pytest tests/test_layers.py`` to list every cycle and every upward import or name at once.
Module-level and function-level imports count alike; docstrings may name anything; tests, benchmarks and migrations
are not checked.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {"tests", "benchmarks", "migrations", "static", "templates", "var", "node_modules"}
LAYER = {
    "portal": 0,
    "domains": 1,
    "profiles": 2,
    "costs": 3,
    "onboarding": 3,
    "changesets": 3,
    "governance": 4,
    "iamaccess": 5,
}
LAYER["backfill"] = 4  # the tag backfill sits beside governance
# The settings module is the project's composition root, read by Django rather than imported by the portal's code:
# it lists every app (INSTALLED_APPS), the scheduler's task names and the API's enum names.
COMPOSITION_ROOT = {"portal.settings"}
SANDBOX = "awssandbox"
# The sandbox-mode entry points: the only modules of the apps that import the sandbox, and only inside functions.
SANDBOX_IMPORTERS = {"portal.sandboxing", "portal.management.commands.sandbox", "domains.demo"}


def project_modules() -> dict[str, Path]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if any(part in SKIPPED_DIRS or part.startswith(".") for part in relative.parts[:-1]):
            continue
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts:
            modules[".".join(parts)] = path
    return modules


def imported_names(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every module name an import in this file may refer to (``from a import b`` gives ``a`` and ``a.b``)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target, node.lineno
            for alias in node.names:
                yield f"{target}.{alias.name}", node.lineno


def module_level_imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """The names :func:`imported_names` gives, for the imports that run when the module is imported (not those
    inside a function)."""
    tree = ast.parse(path.read_text(), str(path))
    pending: list[ast.AST] = [tree]
    top_level: list[ast.stmt] = []
    while pending:
        node = pending.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                top_level.append(child)
            pending.append(child)
    lines = {node.lineno for node in top_level}
    return ((name, line) for name, line in imported_names(module, path) if line in lines)


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported project module: line of the first such import}."""
    modules = project_modules()
    graph: dict[str, dict[str, int]] = {name: {} for name in modules}
    for name, path in modules.items():
        for target, line in imported_names(name, path):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                graph[name].setdefault(target, line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph[node]:
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def app_of(module: str) -> str:
    return module.split(".")[0]


def upward(importer: str, imported: str) -> bool:
    """Whether an import from one app to another breaks the layers (up, or sideways between two top apps)."""
    a, b = app_of(importer), app_of(imported)
    if a == b or a not in LAYER or b not in LAYER:
        return False
    return LAYER[b] >= LAYER[a]


def upper_apps(app: str) -> list[str]:
    return [other for other, layer in LAYER.items() if layer > LAYER[app]]


def names_of_upper_apps(app: str) -> re.Pattern[str]:
    """A URL name (``costs:dashboard``), dotted path or task name (``costs.tasks``) or template path
    (``costs/_panel.html``) of an app above ``app``."""
    return re.compile(rf"(?<![\w./-])({'|'.join(upper_apps(app))})[:./][A-Za-z_]")


def docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes of a module, its classes and functions (documentation may name anything)."""
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, owners) and node.body and isinstance(node.body[0], ast.Expr):
            found.add(id(node.body[0].value))
    return found


def strings_naming_upper_apps() -> list[str]:
    found = []
    for module, path in project_modules().items():
        app = app_of(module)
        if app not in LAYER or not upper_apps(app) or module in COMPOSITION_ROOT:
            continue
        pattern = names_of_upper_apps(app)
        tree = ast.parse(path.read_text(), str(path))
        documentation = docstrings(tree)
        for node in ast.walk(tree):
            if id(node) in documentation or not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            if pattern.search(node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:80]!r}")
    for template in sorted((ROOT / "templates").rglob("*.html")):
        folder = template.relative_to(ROOT / "templates").parts
        app = folder[0] if len(folder) > 1 and folder[0] in LAYER else "portal"
        if not upper_apps(app):
            continue
        pattern = names_of_upper_apps(app)
        for number, line in enumerate(template.read_text().splitlines(), start=1):
            if pattern.search(line):
                found.append(f"{template.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    return found


def test_there_is_no_import_cycle_among_the_projects_modules() -> None:
    assert cycles(import_graph()) == []


def test_imports_point_down_the_layers() -> None:
    wrong = [
        f"{importer} imports {imported} (line {line})"
        for importer, targets in sorted(import_graph().items())
        for imported, line in sorted(targets.items())
        if upward(importer, imported)
    ]
    assert wrong == []


def test_a_lower_layer_never_names_an_upper_app_in_a_string() -> None:
    assert strings_naming_upper_apps() == []


def sandbox_imports() -> list[str]:
    """Every import of the sandbox by the apps that breaks the rule, and every import of the apps by the sandbox."""
    modules = project_modules()
    wrong = []
    for module, path in sorted(modules.items()):
        app = app_of(module)
        if app == SANDBOX:
            wrong += [
                f"{module} imports {name} (line {line}): the sandbox imports nothing of the portal's apps"
                for name, line in imported_names(module, path)
                if app_of(name) in LAYER
            ]
        elif app in LAYER:
            names = [(name, line) for name, line in imported_names(module, path) if app_of(name) == SANDBOX]
            if module not in SANDBOX_IMPORTERS:
                wrong += [f"{module} imports {name} (line {n}): not a sandbox-mode entry point" for name, n in names]
            wrong += [
                f"{module} imports {name} at module level (line {line}): import it inside the sandbox-mode function"
                for name, line in module_level_imports(module, path)
                if app_of(name) == SANDBOX
            ]
    return wrong


def test_the_sandbox_and_the_portal_import_each_other_only_through_the_sandbox_mode_entry_points() -> None:
    assert sandbox_imports() == []


def test_the_sandbox_mode_entry_points_exist() -> None:
    assert SANDBOX_IMPORTERS <= set(project_modules())


# -- the checks themselves catch what they are for ---------------------------------------------------------------
def test_the_cycle_check_finds_a_cycle_through_a_function_level_import() -> None:
    graph = {"portal.models": {"portal.querysets": 1}, "portal.querysets": {"portal.models": 9}, "portal.x": {}}
    assert cycles(graph) == [["portal.models", "portal.querysets"]]


def test_the_layer_check_refuses_upward_and_sideways_imports() -> None:
    assert upward("portal.models", "domains.models")
    assert upward("profiles.sync", "costs.models")
    assert upward("costs.views", "onboarding.models")
    assert not upward("onboarding.views", "profiles.models")
    assert not upward("costs.views", "costs.models")


def test_the_name_check_finds_url_task_and_template_names_of_upper_apps() -> None:
    in_portal = names_of_upper_apps("portal")
    assert in_portal.search("costs:dashboard")
    assert in_portal.search('{% include "profiles/_space_table.html" %}')
    assert names_of_upper_apps("domains").search("profiles.sync_domain_members")
    assert not names_of_upper_apps("domains").search("domains:domain-list")
    assert not names_of_upper_apps("profiles").search("Cost Explorer costs. And more")


def test_relative_imports_are_resolved(tmp_path: Path) -> None:
    source = tmp_path / "views.py"
    source.write_text("from .models import Budget\nfrom . import reports\n")
    names = {name for name, _ in imported_names("costs.views", source)}
    assert {"costs.models", "costs.models.Budget", "costs", "costs.reports"} <= names


def test_only_imports_outside_functions_are_module_level(tmp_path: Path) -> None:
    source = tmp_path / "demo.py"
    source.write_text(
        "import awssandbox.clock\nif True:\n    from awssandbox import faults\n"
        "class A:\n    from awssandbox import limits\n"
        "def f():\n    from awssandbox import organisation\n"
    )
    names = {name for name, _ in module_level_imports("domains.demo", source)}
    assert {"awssandbox.clock", "awssandbox.faults", "awssandbox.limits"} <= names
    assert "awssandbox.organisation" not in names


def test_the_access_vocabulary_imports_no_project_module() -> None:
    assert import_graph()["portal.scoping"] == {}
