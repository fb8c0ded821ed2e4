"""Apps depend one way (DESIGN.md): crm <- customers <- orders <- groups, loyalty. A lower
app lets a higher one add to its pages through crm.registry and signals, never by import."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ABOVE = {
    "crm": {"customers", "orders", "groups", "loyalty", "imports"},
    "customers": {"orders", "groups", "loyalty", "imports"},
    "orders": {"groups", "loyalty", "imports"},
    "groups": {"imports"},
    "loyalty": {"imports"},
}


def imported_apps(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("app", sorted(ABOVE))
def test_app_imports_no_app_above_it(app):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_apps(path) & ABOVE[app])
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and imported_apps(path) & ABOVE[app]
    }
    assert offenders == {}
