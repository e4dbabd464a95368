"""No import cycles among the app's modules, counting imports inside functions.

Every module of `webapp/` and `ablt_core/` is parsed with `ast` (and `views/`,
`app.py`, `serve.py` as importers). Each `import` and `from ... import` is an
edge, wherever it stands (module level, in a function, in a class), except
under `if TYPE_CHECKING:` (type-only, never run). `from pkg import name` is an
edge to `pkg.name` when that is a module, else to `pkg` (its `__init__`).
Importing `a.b.c` also runs `a/__init__` and `a/b/__init__`; those implicit
edges are not counted (a package's `__init__` re-exporting its modules would
otherwise tie every module to its siblings).

A cycle is a strongly connected component of more than one module: each of
its modules imports, directly or not, each of the others. And a name imported
under `if TYPE_CHECKING:` must be type-only: never read when the module runs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("webapp", "ablt_core")
IMPORTERS = ("views", "app.py", "serve.py")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> dict[str, Path]:
    """Module name -> file, for the packages and the importers."""
    found: dict[str, Path] = {}
    for top in (*PACKAGES, *IMPORTERS):
        where = ROOT / top
        files = [where] if where.suffix == ".py" else sorted(where.rglob("*.py"))
        for path in files:
            if path.exists():
                found[module_name(path)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement under `node`, skipping `if TYPE_CHECKING:` bodies."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for orelse in child.orelse:
                yield from _imports_of(orelse)
            continue
        yield from _imports_of(child)


def _imports_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _imports(node)


def _resolve_from(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imported_by(name: str, path: Path, known: set[str]) -> set[str]:
    """The known modules `name` imports, at any level (TYPE_CHECKING aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    targets: set[str] = set()
    for node in _imports(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        source = _resolve_from(name, path.name == "__init__.py", node)
        for alias in node.names:
            sub = f"{source}.{alias.name}"
            targets.add(sub if sub in known else source)
    return {t for t in targets if t in known and t != name}


def import_graph() -> dict[str, set[str]]:
    files = source_files()
    known = set(files)
    return {name: imported_by(name, path, known) for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's
    algorithm, iterative), each sorted, largest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
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
    return sorted(found, key=lambda c: (-len(c), c))


def test_the_graph_sees_imports_inside_functions_and_skips_type_checking_ones() -> None:
    graph = import_graph()
    assert "webapp.answers.service" in graph and "ablt_core._client" in graph
    assert "views.chat" in graph and "app" in graph
    # A toy module: one import in a function, one under TYPE_CHECKING, one from a package.
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from webapp import backend\n"
        "def f():\n    from webapp.chat import view\n"
        "from webapp.answers import AnswerService\n"
    )
    names = [
        (n.module, [a.name for a in n.names])
        for n in _imports(tree)
        if isinstance(n, ast.ImportFrom)
    ]
    assert ("webapp", ["backend"]) not in names
    assert ("webapp.chat", ["view"]) in names and ("webapp.answers", ["AnswerService"]) in names


def test_a_cycle_is_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_among_the_apps_modules() -> None:
    graph = import_graph()
    found = cycles(graph)
    described = []
    for component in found:
        inside = set(component)
        edges = [f"{m} -> {t}" for m in component for t in sorted(graph[m] & inside)]
        described.append("\n    ".join(edges))
    assert not found, "import cycles:\n  " + "\n  ".join(described)


def _type_checking_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for stmt in node.body:
                if isinstance(stmt, ast.Import | ast.ImportFrom):
                    names.update((a.asname or a.name).split(".")[0] for a in stmt.names)
    return names


def _runtime_names(node: ast.AST) -> Iterator[str]:
    """Names read when the module runs: annotations left out (they are not
    evaluated under `from __future__ import annotations`)."""
    for field, value in ast.iter_fields(node):
        if field in ("annotation", "returns"):
            continue
        children = value if isinstance(value, list) else [value]
        for child in children:
            if isinstance(child, ast.AnnAssign):
                yield from _runtime_names(child.target)
                if child.value is not None:
                    yield from _runtime_names(child.value)
                continue
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                continue
            if isinstance(child, ast.Name):
                yield child.id
            if isinstance(child, ast.AST):
                yield from _runtime_names(child)


def test_type_checking_imports_are_type_only() -> None:
    """A name imported under `if TYPE_CHECKING:` is never used when the module
    runs (that would hide an import, or fail with NameError)."""
    misused = []
    for name, path in source_files().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        hidden = _type_checking_names(tree)
        if not hidden:
            continue
        assert "annotations" in {
            a.name for n in tree.body if isinstance(n, ast.ImportFrom) for a in n.names
        }, f"{name}: TYPE_CHECKING imports need `from __future__ import annotations`"
        # A name also imported where it runs (e.g. in the function using it) is fine.
        bound = {(a.asname or a.name).split(".")[0] for n in _imports(tree) for a in n.names}
        used = hidden.difference(bound) & set(_runtime_names(tree))
        misused += [f"{name}: {u}" for u in sorted(used)]
    assert not misused, "used at run time but imported only for type checking:\n" + "\n".join(
        misused
    )
