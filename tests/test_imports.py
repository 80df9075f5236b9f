"""The package's import graph has no cycle, counting the imports inside functions too.

A lazy import only hides a cycle until the day someone moves it to the top of the file; a cycle
means two modules each own part of the other's job (as ``infer/export.py`` and
``infer/landmarker.py`` once did), so the test reads every ``import`` statement, wherever it is.
"""

from __future__ import annotations

import ast
from pathlib import Path

import synthmarks

PACKAGE = Path(synthmarks.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the package's modules it imports (``from a import b`` names ``a.b`` when b is a
    module, else ``a``), inside functions and ``if TYPE_CHECKING:`` too, plus the packages whose
    ``__init__`` such an import runs."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = name if is_pkg else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                src = ".".join(p for p in (base if node.level else "", node.module or "") if p)
                for alias in node.names:
                    targets.add(f"{src}.{alias.name}" if f"{src}.{alias.name}" in modules else src)
        # importing a.b.c first runs a/__init__ and a/b/__init__: an edge to each package above the
        # target that is not also above the importer (those are initialised before it runs)
        own = {name.rsplit(".", k)[0] for k in range(1, name.count(".") + 1)}
        for t in list(targets):
            parts = t.split(".")
            targets |= {".".join(parts[:k]) for k in range(1, len(parts))} - own
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_graph_sees_lazy_imports():
    graph = import_graph()
    # imported inside a function only: the walk must still see it
    assert "synthmarks.infer.landmarker" in graph["synthmarks"]
    assert "synthmarks.infer.engine" in graph["synthmarks.train.validate"]
    # a package's __init__ imports are edges too, and importing a submodule runs its package's
    # __init__ first: trainer -> synthmarks.models (the package) -> synthmarks.models.zoo
    assert "synthmarks.models.zoo" in graph["synthmarks.models"]
    assert "synthmarks.models" in graph["synthmarks.train.trainer"]
    # ...but not the packages above the importer itself, which are initialised before it runs
    assert "synthmarks.models" not in graph["synthmarks.models.zoo"]


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_package_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle or [])
