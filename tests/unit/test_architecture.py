"""The import and write rules of docs/architecture.md, checked on the source tree (AST, no imports).

- ``rules.py`` modules are pure: no database, web or CLI import, no reading of the clock.
- No area imports another area's private (underscore) names.
- Handlers (``cli/``, ``web/``, ``pages.py``/``*_pages.py``, ``api.py``) never build a write:
  no SQL INSERT/UPDATE/DELETE text, no SQLAlchemy ``insert``/``update``/``delete`` import, no
  ``session.add``/``merge``/``delete``. Writes live in the areas' ``actions.py``.
- Handlers calling ``commit``/``rollback`` themselves is the debt #20 is paying off: the count per
  module may only go down (:data:`HANDLER_TRANSACTION_DEBT`); a new handler module owns none.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "cakupan"

IMPURE_FOR_RULES = ("sqlalchemy", "fastapi", "starlette", "typer", "cakupan.db", "cakupan.web")
CLOCK_READS = {"now", "today", "utcnow"}
SQL_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\s", re.IGNORECASE)

#: Handler modules that still commit or roll back themselves, with the number of such calls at
#: the last count. Lower a number when you move a transaction into an action; never raise one.
HANDLER_TRANSACTION_DEBT: dict[str, int] = {
    "cakupan.campaigns.api": 1,
    "cakupan.campaigns.pages": 3,
    "cakupan.campaigns.planner_pages": 6,
    "cakupan.claims.api": 5,
    "cakupan.claims.pages": 10,
    "cakupan.cli.claims": 1,
    "cakupan.dashboard.api": 3,
    "cakupan.dashboard.pages": 6,
    "cakupan.incentives.api": 4,
    "cakupan.incentives.pages": 4,
    "cakupan.integration.api": 2,
    "cakupan.partners.pages": 8,
    "cakupan.retention.api": 3,
    "cakupan.retention.pages": 7,
    "cakupan.targets.pages": 8,
    "cakupan.web.deps": 1,
    "cakupan.web.pages": 15,
}


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    tree: ast.Module

    @property
    def area(self) -> str:
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 else ""

    @property
    def is_handler(self) -> bool:
        parts = self.name.split(".")
        leaf = parts[-1]
        return self.area in ("cli", "web") or leaf in ("pages", "api") or leaf.endswith("_pages")


def _modules() -> list[Module]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append(Module(name, path, ast.parse(path.read_text(encoding="utf-8"))))
    return found


MODULES = _modules()


def _imports(module: Module) -> list[tuple[str, list[str], int]]:
    """(imported module, imported names, line) for every absolute import, nested ones included."""
    out = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            out.extend((alias.name, [], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            out.append((node.module, [alias.name for alias in node.names], node.lineno))
    return out


def _called_name(node: ast.Call) -> str:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return ""


def test_the_tree_is_read() -> None:
    names = {module.name for module in MODULES}
    assert "cakupan.registry.rules" in names
    assert any(module.is_handler for module in MODULES)
    assert sum(module.path.name == "rules.py" for module in MODULES) >= 10


def test_rules_modules_are_pure() -> None:
    problems = []
    for module in MODULES:
        if module.path.name != "rules.py":
            continue
        for imported, _names, line in _imports(module):
            if imported.startswith(IMPURE_FOR_RULES) or imported.startswith("cakupan.cli"):
                problems.append(f"{module.name}:{line} imports {imported}")
        for node in ast.walk(module.tree):
            if (
                isinstance(node, ast.Call)
                and _called_name(node) in CLOCK_READS
                and isinstance(node.func, ast.Attribute)
                and ast.unparse(node.func.value)
                in ("date", "datetime", "datetime.datetime", "datetime.date")
            ):
                problems.append(f"{module.name}:{node.lineno} reads the clock")
    assert problems == []


def test_no_area_imports_another_areas_private_names() -> None:
    problems = []
    for module in MODULES:
        for imported, names, line in _imports(module):
            if not imported.startswith("cakupan."):
                continue
            other = imported.split(".")[1]
            if other == module.area:
                continue
            for name in names:
                if name.startswith("_"):
                    problems.append(f"{module.name}:{line} imports {imported}.{name}")
    assert problems == []


def test_handlers_never_build_a_write() -> None:
    problems = []
    for module in MODULES:
        if not module.is_handler:
            continue
        for imported, names, line in _imports(module):
            if imported.startswith("sqlalchemy") and {"insert", "update", "delete"} & set(names):
                problems.append(f"{module.name}:{line} imports a DML construct from {imported}")
        for node in ast.walk(module.tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and SQL_WRITE.match(node.value)
            ):
                problems.append(f"{module.name}:{node.lineno} has SQL write text")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("add", "add_all", "merge", "delete", "bulk_save_objects")
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "session"
            ):
                problems.append(f"{module.name}:{node.lineno} session.{node.func.attr}")
    assert problems == []


def _handler_transactions() -> Counter[str]:
    counts: Counter[str] = Counter()
    for module in MODULES:
        if not module.is_handler:
            continue
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call) and _called_name(node) in ("commit", "rollback"):
                counts[module.name] += 1
    return counts


def test_handler_transactions_only_go_down() -> None:
    grown = {
        name: (count, HANDLER_TRANSACTION_DEBT.get(name, 0))
        for name, count in _handler_transactions().items()
        if count > HANDLER_TRANSACTION_DEBT.get(name, 0)
    }
    assert grown == {}, f"handler commits/rollbacks (now, allowed): {grown}"
