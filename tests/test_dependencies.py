"""The dependency rules between the parts of `portal` (docs/architecture.md), checked
over the source's import statements, so that a change cannot quietly break them."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "portal"

# Modules every part may use, which use no domain: the foundation.
FOUNDATION = {
    "portal.settings",
    "portal.db",
    "portal.formats",
    "portal.paths",
    "portal.forms",
    "portal.characters",
    "portal.concurrency",
    "portal.logs",
    "portal.metrics",
    "portal.csvexport",
    "portal.migrate",
    "portal.routing",
    "portal.security",
}
# The top: what assembles the app and the command line. Nothing imports them.
ENTRY = {"portal.app", "portal.cli", "portal.models", "portal.job_kinds"}
# Modules that answer requests, besides the domains' `routes` modules: they may use
# `portal.web` (templates, error pages, the unit of work), which nothing else may.
HANDLERS = {
    "portal.workspace.editor",  # the feedback editor's handlers
    "portal.auth.areas",  # the areas' guards answer whoever they turn away
    "portal.auth.signin",  # a sign-in answers with the session cookie
    "portal.pdf.download",  # the PDF download's answer (cache, 503 when busy)
}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, e.g. "portal.pool.panel"
    target: str  # the imported module (or module.name), e.g. "portal.feedback.view"
    line: int


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports() -> Iterator[Import]:
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(source, alias.name, node.lineno)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    yield Import(source, f"{node.module}.{alias.name}", node.lineno)


def _part(module: str) -> str:
    """The part of portal a module belongs to: "portal.pool" for "portal.pool.panel",
    "portal.web" for "portal.web"."""
    return ".".join(module.split(".")[:2])


def _is_domain(part: str) -> bool:
    name = part.split(".")[1] if "." in part else ""
    return (PACKAGE / name).is_dir() and part not in FOUNDATION | ENTRY


IMPORTS = [i for i in _imports() if i.target.startswith("portal.")]


def _where(found: list[Import]) -> str:
    return "\n".join(f"  {i.source} (line {i.line}) imports {i.target}" for i in found)


def test_the_foundation_uses_no_domain() -> None:
    found = [
        i for i in IMPORTS if _part(i.source) in FOUNDATION and _part(i.target) not in FOUNDATION
    ]
    assert not found, "the foundation must not depend on the rest:\n" + _where(found)


def test_nothing_imports_the_app_or_the_command_line() -> None:
    found = [i for i in IMPORTS if _part(i.target) in ENTRY and _part(i.source) not in ENTRY]
    assert not found, "only the entry points assemble the app:\n" + _where(found)


def test_no_domain_imports_another_domains_routes() -> None:
    found = [
        i
        for i in IMPORTS
        if _part(i.source) != _part(i.target)
        and _part(i.source) not in ENTRY
        and i.target.split(".")[2:3]
        and i.target.split(".")[2].endswith("routes")
    ]
    assert not found, "routes are assembled by portal.app alone:\n" + _where(found)


def _is_handler(module: str) -> bool:
    return module.split(".")[-1].endswith("routes") or module in HANDLERS


def test_only_handlers_use_the_web_layer() -> None:
    found = [
        i
        for i in IMPORTS
        if _part(i.target) == "portal.web"
        and _part(i.source) not in {*ENTRY, "portal.web"}
        and not _is_handler(i.source)
    ]
    assert not found, "services never import portal.web:\n" + _where(found)


def _domain_graph() -> dict[str, set[str]]:
    # Any part may read another's tables (its `models`): the schema is shared. And a
    # domain's handlers (`routes`) sit above every domain's services. Every other
    # import between domains must go one way only.
    graph: dict[str, set[str]] = {}
    for i in IMPORTS:
        source, target = _part(i.source), _part(i.target)
        if source == target or not (_is_domain(source) and _is_domain(target)):
            continue
        if i.target.split(".")[2:3] == ["models"] or _is_handler(i.source):
            continue
        graph.setdefault(source, set()).add(target)
    return graph


def test_domains_import_each_other_one_way_only() -> None:
    graph = _domain_graph()
    # Tarjan-free: a cycle exists when some domain reaches itself.
    cycles = []
    for start in sorted(graph):
        seen: set[str] = set()
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph.get(node, ())):
                if nxt == start:
                    cycles.append(" -> ".join([*path, start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    details = [
        _where([i for i in IMPORTS if _part(i.source) == a and _part(i.target) == b])
        for cycle in cycles[:3]
        for a, b in zip(cycle.split(" -> "), cycle.split(" -> ")[1:], strict=False)
    ]
    assert not cycles, (
        "import cycles between domains:\n" + "\n".join(cycles) + "\n" + "\n".join(details)
    )


def test_drafting_sits_between_staff_and_imports() -> None:
    # docs/architecture.md: drafting saves drafts through `feedback` and reads `postings`,
    # `pool` and `jobs`; `imports`, `ats`, `workspace` and `api` use it, never the reverse.
    above = {"portal.imports", "portal.ats", "portal.workspace", "portal.api", "portal.privacy"}
    found = [
        i
        for i in IMPORTS
        if _part(i.source) == "portal.drafting"
        and _part(i.target) in above
        and i.target.split(".")[2:3] != ["models"]
    ]
    assert not found, "portal.drafting must not use the domains above it:\n" + _where(found)
