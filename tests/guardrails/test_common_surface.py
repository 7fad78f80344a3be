"""common's public surface: each module's ``__all__``, ``common/README.md`` and the app agree.

A name added to ``__all__`` without a line in the README fails here, and so does a documented
name that is no longer exported, or an app module importing a name common does not export.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import common

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "common" / "README.md"

_SECTION = re.compile(r"^#{2,4} `(?P<module>common(?:\.\w+)*)`\s*$")
_ITEM = re.compile(r"^- `(?P<name>\w+)`")


def public_modules() -> list[str]:
    """``common`` and every module below it whose dotted name has no part starting with ``_``."""
    names = ["common"]
    for info in pkgutil.walk_packages(common.__path__, "common."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def exported() -> dict[str, set[str]]:
    return {name: set(importlib.import_module(name).__all__) for name in public_modules()}


def documented() -> dict[str, set[str]]:
    """``{module: names}`` from the README's ``### `module` `` sections and their ``- `name` `` lines."""
    sections: dict[str, set[str]] = {}
    current: set[str] | None = None
    for line in README.read_text(encoding="utf-8").splitlines():
        if heading := _SECTION.match(line):
            current = sections.setdefault(heading["module"], set())
        elif line.startswith("#"):
            current = None
        elif current is not None and (item := _ITEM.match(line)):
            current.add(item["name"])
    return sections


def test_every_public_module_declares_its_exports() -> None:
    missing = [
        name for name in public_modules() if "__all__" not in vars(importlib.import_module(name))
    ]
    assert not missing, f"modules without __all__: {missing}"


def test_every_exported_name_exists_once() -> None:
    for name in public_modules():
        module = importlib.import_module(name)
        assert len(module.__all__) == len(set(module.__all__)), f"{name}: duplicates in __all__"
        absent = [export for export in module.__all__ if not hasattr(module, export)]
        assert not absent, f"{name}.__all__ names what it does not define: {absent}"


def test_the_readme_documents_exactly_the_exported_names() -> None:
    docs, code = documented(), exported()
    differences = [
        f"{module}: exported, not documented {sorted(code.get(module, set()) - names)}; "
        f"documented, not exported {sorted(names - code.get(module, set()))}"
        for module in sorted(docs.keys() | code.keys())
        if (names := docs.get(module, set())) != code.get(module)
    ]
    assert not differences, "\n".join(differences)


def test_the_readme_parser_sees_sections_and_names() -> None:
    sections = documented()
    assert "Database" in sections["common.db"]
    assert sections["common"] == set()


def _common_imports(path: Path) -> list[tuple[int, str, str]]:
    """``(line, module, name)`` for each ``from common… import name`` in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        (node.lineno, node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module is not None
        and (node.module == "common" or node.module.startswith("common."))
        for alias in node.names
    ]


def test_the_app_imports_only_public_names_of_common() -> None:
    public = exported()
    private_uses = [
        f"{path.relative_to(ROOT)}:{line}: from {module} import {name}"
        for path in sorted((ROOT / "app").rglob("*.py"))
        for line, module, name in _common_imports(path)
        if name not in public.get(module, set()) and f"{module}.{name}" not in public
    ]
    assert not private_uses, "\n".join(private_uses)
