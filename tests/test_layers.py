"""The package's layering: a module imports only from its own layer or below (run-time imports; imports for type
checkers only are not dependencies). One home per stage stays one home when nothing reaches upward."""

from __future__ import annotations

import ast
from pathlib import Path

ARENA = Path(__file__).resolve().parents[1] / "arena"

LAYER: dict[str, int] = {
    # foundation
    "__init__": 0, "errors": 0, "keys": 0, "resources": 0, "text": 0,
    # records at file boundaries, their store and the table reader
    "records": 1, "store": 1, "tables": 1, "csv_table": 1,
    # config schema and loader; provider specs
    "config": 2, "providers": 2,
    # stages
    "questions": 3, "generate": 3, "judging": 3, "rating": 3,
    # run dirs, the browser's computation, other tools' files
    "rundir": 4, "browse": 4, "interop": 4,
    # chaining (pipeline and its checks), run comparison
    "pipeline": 5, "diff": 5,
    # the command line
    "cli": 6, "__main__": 6,
}
ALLOWED: set[tuple[str, str]] = {
    # The schema embeds the rater's settings model: a pydantic-only leaf (no numpy, pandas or scipy on import).
    ("config/schema.py", "arena.rating.settings"),
}


def _runtime_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(node) for n in ast.walk(tree) if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)
                   for body in n.body for node in ast.walk(body)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "arena":
                found |= {f"arena.{a.name}" for a in node.names}
            elif node.module.startswith("arena."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("arena.")}
    return found


def test_every_module_has_a_layer() -> None:
    tops = {p.relative_to(ARENA).parts[0].removesuffix(".py") for p in ARENA.rglob("*.py")}
    assert tops <= set(LAYER), sorted(tops - set(LAYER))


def test_no_module_imports_upward() -> None:
    upward = []
    for path in sorted(ARENA.rglob("*.py")):
        rel = path.relative_to(ARENA)
        if rel == Path("__init__.py"):
            continue  # the public API re-exports every layer, lazily
        mine = LAYER[rel.parts[0].removesuffix(".py")]
        for module in _runtime_imports(path):
            top = module.split(".")[1]
            if top in LAYER and LAYER[top] > mine and (rel.as_posix(), module) not in ALLOWED:
                upward.append(f"{rel.as_posix()} -> {module}")
    assert upward == []


def test_no_module_over_about_400_lines() -> None:
    sizes = {p.relative_to(ARENA).as_posix(): len(p.read_text(encoding="utf-8").splitlines()) for p in ARENA.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 420} == {}
