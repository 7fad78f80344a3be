"""Every program of the app (a module run as ``python -m``) exits without a final garbage pass.

See :func:`common.lifecycle.exit_without_collecting`: a new entry point that forgets it costs
each of its processes some 0.15 s of CPU at exit.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _main_blocks() -> dict[str, ast.If]:
    blocks: dict[str, ast.If] = {}
    for path in sorted((ROOT / "app").rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (
                isinstance(node, ast.If)
                and isinstance(node.test, ast.Compare)
                and isinstance(node.test.left, ast.Name)
                and node.test.left.id == "__name__"
            ):
                blocks[str(path.relative_to(ROOT))] = node
    return blocks


def _exits_without_collecting_first(block: ast.If) -> bool:
    first = block.body[0]
    return (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Call)
        and isinstance(first.value.func, ast.Name)
        and first.value.func.id == "exit_without_collecting"
    )


def test_the_app_has_entry_points() -> None:
    blocks = _main_blocks()
    assert {"app/api/rest/__main__.py", "app/api/grpc/__main__.py"} <= blocks.keys()


def test_every_entry_point_first_exits_without_collecting() -> None:
    blocks = _main_blocks()
    missing = [path for path, block in blocks.items() if not _exits_without_collecting_first(block)]
    assert not missing, f"entry points that do not call exit_without_collecting() first: {missing}"
