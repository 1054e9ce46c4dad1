"""Imports point one way: down the layers that docs/architecture.md draws.

Read with the standard library's `ast`, nothing imported: every `import` and `from ... import` of
the project's own modules under src/vpnregistry (migrations aside, which Django loads by name), at
module level or inside a function. A module may import its own app and any app of a lower layer;
two apps of one layer never import each other; an import inside a function is allowed only where it
says why, on its line or in the comment just above: a load-order problem it breaks, or start-up time.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "vpnregistry"

# Lowest first. A name is an app (a folder of src/vpnregistry) or one of the top-level modules.
LAYERS: list[set[str]] = [
    {"netblocks"},
    {
        "bidi",
        "bilingual",
        "bodylimits",
        "borrowed_messages",
        "busy",
        "canonical",
        "celery",
        "codes",
        "csvcells",
        "db",
        "errors",
        "fieldcrypt",
        "identifiers",
        "language",
        "logfilters",
        "messages",
        "middleware",
        "objectstore",
        "printing",
        "private_files",
        "roles",
        "siteurl",
        "static_finders",
        "storage",
        "throttling",
        "timeutil",
        "uploads",
    },
    {"api"},
    {"signing"},
    {"audit"},
    {"notifications"},
    {"accounts"},
    {"registrations"},
    {"applications"},
    {"restrictions"},
    {"transparency"},
    {"allowlist"},
    {"portal"},
    {"worker", "apps", "backup", "cli", "demo", "settings", "urls", "urls_api", "wsgi"},
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}
# An import inside a function says why, on its line or in the comment just above it: a load-order
# problem it breaks (models not ready yet), or start-up time (netblocks and the allowlist's formats
# leave NumPy unloaded until a function needs it).
WHY_INSIDE = ("load order", "start-up time")


def _unit(module: str) -> str | None:
    """The app or top-level module that `module` (dotted, under vpnregistry) belongs to."""
    parts = module.split(".")
    if parts[0] != "vpnregistry" or len(parts) < 2:
        return None
    return parts[1]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".")
        if not is_package:
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    # `from vpnregistry import db, errors` names modules; `from vpnregistry.db import x` a module.
    if prefix == "vpnregistry":
        return [f"vpnregistry.{alias.name}" for alias in node.names]
    return [prefix]


def _imports() -> list[tuple[str, str, int, bool, str]]:
    """(importer, imported, line, inside a function, the import's line and the six above it) for every
    project import."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        text = path.read_text()
        lines = text.splitlines()
        tree = ast.parse(text)
        module = _module_name(path)
        inside: set[int] = set()
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                inside.update(id(n) for n in ast.walk(function) if isinstance(n, ast.Import | ast.ImportFrom))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in _targets(node, module, path.name == "__init__.py"):
                if target.split(".")[0] == "vpnregistry":
                    above = "\n".join(lines[max(node.lineno - 7, 0) : node.lineno])
                    found.append((module, target, node.lineno, id(node) in inside, above))
    return found


IMPORTS = _imports()


def test_the_walk_sees_the_project():
    """A walk that found nothing would pass everything: it sees the apps and their imports."""
    units = {_unit(importer) for importer, *_ in IMPORTS} | {_unit(imported) for _i, imported, *_ in IMPORTS}
    assert {"accounts", "applications", "registrations", "allowlist", "api", "portal", "db"} <= units
    assert len(IMPORTS) > 500


def test_every_app_and_module_has_a_layer():
    units = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    units |= {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert not units - set(RANK), f"add to LAYERS (and docs/architecture.md): {sorted(units - set(RANK))}"


def _violations(imports) -> list[str]:
    """Imports up the layers, or sideways between two apps of one layer (the core's modules and the
    top layer's entry points may use each other)."""
    problems = []
    for importer, imported, line, _inside, _text in imports:
        source, target = _unit(importer), _unit(imported)
        if source is None or target is None or source == target:
            continue
        src_rank, dst_rank = RANK.get(source), RANK.get(target)
        if src_rank is None or dst_rank is None:
            continue
        sideways = dst_rank == src_rank and src_rank not in (RANK["db"], RANK["urls"])
        if dst_rank > src_rank or sideways:
            problems.append(f"{importer}:{line} imports {imported} ({source} -> {target})")
    return problems


def test_imports_point_down_the_layers():
    assert _violations(IMPORTS) == []


def _cycles(imports) -> list[str]:
    """Pairs of apps that import each other."""
    graph: dict[str, set[str]] = defaultdict(set)
    for importer, imported, *_ in imports:
        source, target = _unit(importer), _unit(imported)
        if source and target and source != target:
            graph[source].add(target)
    return sorted(f"{a} <-> {b}" for a in graph for b in graph[a] if a < b and a in graph.get(b, ()))


def test_no_cycle_between_apps():
    assert _cycles(IMPORTS) == []


@pytest.mark.parametrize(
    ("imports", "expected"),
    [
        (
            [
                ("vpnregistry.urls_api", "vpnregistry.accounts.api.views"),
                ("vpnregistry.accounts.api.views", "vpnregistry.api.schema"),
            ],
            [],
        ),
        (
            [
                ("vpnregistry.portal.views", "vpnregistry.registrations.responses"),
                ("vpnregistry.registrations.responses", "vpnregistry.portal.views"),
            ],
            ["portal <-> registrations"],
        ),
    ],
)
def test_the_cycle_rule_itself(imports, expected):
    """A pair of apps that import each other is caught; a one-way chain is not a cycle."""
    assert _cycles([(importer, imported, 1, False, "") for importer, imported in imports]) == expected


def test_imports_inside_functions_say_why():
    unexplained = [
        f"{importer}:{line} imports {imported}"
        for importer, imported, line, inside, text in IMPORTS
        if inside and not any(why in text.lower() for why in WHY_INSIDE)
    ]
    assert unexplained == []


@pytest.mark.parametrize(
    ("importer", "imported", "expected"),
    [
        ("vpnregistry.accounts.models", "vpnregistry.registrations.models", "up"),
        ("vpnregistry.registrations.models", "vpnregistry.accounts.models", "down"),
        ("vpnregistry.portal.views", "vpnregistry.urls_api", "up"),
        ("vpnregistry.applications.api.views", "vpnregistry.api.permissions", "down"),
        ("vpnregistry.api.permissions", "vpnregistry.accounts.models", "up"),
        ("vpnregistry.db", "vpnregistry.errors", "down"),
    ],
)
def test_the_rule_itself(importer, imported, expected):
    """The check catches an upward import and lets a downward one through (and one core module's use of
    another)."""
    found = _violations([(importer, imported, 1, False, "")])
    assert bool(found) == (expected != "down"), found
