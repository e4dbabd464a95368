"""Every widget callback in the app is guarded (issue 28, items 1 and 2).

A callback runs before app.py re-reads the member, so one that changes data
or may start an answer must be a `webapp.auth.guard.member_action` (the
member re-read and checked when it runs), and one that only changes what
this session shows a `view_action`. This test finds every callback of the
app's widgets and fails on one that is neither, so a new button cannot skip
the guard:

- every module of webapp/, views/ and app.py is parsed with `ast`; every
  `on_click=` / `on_change=` / `on_submit=` whose value is a name or an
  attribute is a callback (strings such as "ignore" or "rerun", True, None
  are Streamlit's own behaviours, not callables);
- the callable is resolved as Python resolves it in that module: a module
  global, or `alias.func` through the module's imports. A lambda, a nested
  function or any other value that cannot be resolved fails, with its
  file:line: make it a module-level function and decorate it;
- a helper that passes its own parameter on as a callback (`error_box`'s
  `on_retry`) is followed to its callers, whose values are checked the same way;
- the resolved callable must carry `GUARD_MARK`.
"""

from __future__ import annotations

import ast
import importlib
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from webapp.auth import gate
from webapp.auth.guard import GUARD_MARK

ROOT = Path(__file__).resolve().parents[3]
CALLBACK_KEYWORDS = frozenset({"on_click", "on_change", "on_submit"})

# Files whose callbacks are not checked: none (the chat package joined when its
# rewrite landed). Nothing may be added to it.
PENDING: frozenset[str] = frozenset()

# The login form's own callback: nobody is logged in yet, there is no member to
# re-read. It checks the credentials itself (the throttle, bcrypt).
BEFORE_LOGIN = frozenset({gate.submit_login})


def app_files() -> list[Path]:
    """Every module of webapp/ and views/, and app.py."""
    files = [*sorted((ROOT / "webapp").rglob("*.py")), *sorted((ROOT / "views").glob("*.py"))]
    return [*files, ROOT / "app.py"]


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _is_script(path: Path) -> bool:
    """A page script (views/, app.py): importing it would run the page."""
    return path.name == "app.py" or path.parent.name == "views"


def namespace_of(path: Path) -> dict[str, Any]:
    """The module's globals. A package module is imported; a page script's
    definitions (imports, functions, classes, plain constants) are run without
    its top-level statements, which would draw the page."""
    if not _is_script(path):
        dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        return vars(importlib.import_module(dotted.removesuffix(".__init__")))
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    kept: list[ast.stmt] = []
    for node in tree.body:
        definition = isinstance(
            node,
            ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
        )
        constant = isinstance(node, ast.Assign | ast.AnnAssign) and not any(
            isinstance(inner, ast.Call) for inner in ast.walk(node)
        )
        if definition or constant:
            kept.append(node)
    module = types.ModuleType(f"_guard_check_{path.stem}")
    module.__file__ = str(path)
    exec(compile(ast.Module(body=kept, type_ignores=[]), str(path), "exec"), vars(module))
    return vars(module)


def _local_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Names bound inside `function`: its parameters, assignments, nested defs."""
    args = function.args
    names = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    for node in ast.walk(function):
        if node is function:
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    args = function.args
    return {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}


@dataclass(frozen=True)
class Site:
    """One callback keyword: where it is, its value, and the functions around it."""

    file: Path
    line: int
    keyword: str
    value: ast.expr
    enclosing: tuple[ast.FunctionDef | ast.AsyncFunctionDef, ...]

    @property
    def where(self) -> str:
        return f"{relative(self.file)}:{self.line} ({self.keyword}=)"


def _calls(
    node: ast.AST, enclosing: tuple[ast.FunctionDef | ast.AsyncFunctionDef, ...] = ()
) -> Iterator[tuple[ast.Call, tuple[ast.FunctionDef | ast.AsyncFunctionDef, ...]]]:
    """Every call under `node`, with the functions it is written in (innermost last)."""
    for child in ast.iter_child_nodes(node):
        inner = (
            (*enclosing, child)
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            else enclosing
        )
        if isinstance(child, ast.Call):
            yield child, enclosing
        yield from _calls(child, inner)


def _is_behaviour(value: ast.expr) -> bool:
    """A string ("ignore", "rerun"), True/False, None or ...: not a callable."""
    return isinstance(value, ast.Constant) and (
        value.value is None or value.value is Ellipsis or isinstance(value.value, str | bool)
    )


class Unresolved(Exception):
    """The callback's value is not a module-level callable (a lambda, a nested function...)."""


def resolve(site: Site, namespace: dict[str, Any]) -> Any:
    """The object `site.value` names in its module, as Python would find it there."""
    value = site.value
    path: list[str] = []
    while isinstance(value, ast.Attribute):
        path.insert(0, value.attr)
        value = value.value
    if not isinstance(value, ast.Name):
        raise Unresolved(f"{ast.unparse(site.value)} is not a name")
    if any(value.id in _local_names(f) for f in site.enclosing):
        raise Unresolved(f"{value.id} is local to {site.enclosing[-1].name}()")
    if value.id not in namespace:
        raise Unresolved(f"{value.id} is not defined in the module")
    found = namespace[value.id]
    for attr in path:
        found = getattr(found, attr)
    return found


def callback_sites(files: list[Path]) -> list[Site]:
    """Every callback keyword with a callable value, forwarding helpers followed.

    A value that is a parameter of the function it stands in (`on_click=on_retry`)
    makes that function a forwarder: its callers' `on_retry=` values are the
    callbacks, found in a second pass (and so on, should they forward too).
    """
    trees = {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in files}
    forwarders: set[tuple[str, str]] = set()  # (function name, its parameter)
    sites: list[Site] = []
    seen: set[tuple[Path, int, int]] = set()
    while True:
        before = len(forwarders)
        for path, tree in trees.items():
            for call, enclosing in _calls(tree):
                callee = (
                    call.func.attr
                    if isinstance(call.func, ast.Attribute)
                    else getattr(call.func, "id", "")
                )
                for keyword in call.keywords:
                    name = keyword.arg or ""
                    if name not in CALLBACK_KEYWORDS and (callee, name) not in forwarders:
                        continue
                    value = keyword.value
                    if _is_behaviour(value):
                        continue
                    if (
                        isinstance(value, ast.Name)
                        and enclosing
                        and value.id in _parameters(enclosing[-1])
                    ):
                        forwarders.add((enclosing[-1].name, value.id))
                        continue
                    key = (path, value.lineno, value.col_offset)
                    if key not in seen:
                        seen.add(key)
                        sites.append(Site(path, value.lineno, name, value, enclosing))
        if len(forwarders) == before:
            return sites


def unguarded(sites: list[Site]) -> list[str]:
    """What is wrong with each site whose callback is not guarded, as "file:line: why"."""
    problems = []
    namespaces: dict[Path, dict[str, Any]] = {}
    for site in sites:
        if site.file not in namespaces:
            namespaces[site.file] = namespace_of(site.file)
        try:
            found = resolve(site, namespaces[site.file])
        except (Unresolved, AttributeError) as err:
            problems.append(
                f"{site.where}: cannot be checked ({err}); make it a module-level function "
                "decorated with member_action or view_action"
            )
            continue
        if found in BEFORE_LOGIN:
            continue
        if not hasattr(found, GUARD_MARK):
            name = getattr(found, "__qualname__", repr(found))
            problems.append(
                f"{site.where}: {name} is neither a member_action nor a view_action "
                "(webapp.auth.guard)"
            )
    return problems


def test_every_widget_callback_is_a_member_action_or_a_view_action() -> None:
    files = [f for f in app_files() if relative(f) not in PENDING]
    sites = callback_sites(files)
    # The walk sees the app's callbacks (a sanity check on the walk itself).
    found = {(relative(s.file), ast.unparse(s.value)) for s in sites}
    assert ("webapp/team/view.py", "_on_role") in found
    assert ("views/compare.py", "view.submit_prompt") in found
    assert ("webapp/ui/page.py", "retry_health") in found
    assert not unguarded(sites), "\n".join(unguarded(sites))


def test_no_callback_is_handed_the_member_drawn_with_the_page() -> None:
    """`args=(actor, ...)` would act for the member as drawn: the callback reads
    `current_member()` instead, just refreshed by the guard."""
    captured = []
    for path in app_files():
        if relative(path) in PENDING:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for call, _ in _calls(tree):
            if not any(k.arg in CALLBACK_KEYWORDS for k in call.keywords):
                continue
            for keyword in call.keywords:
                if keyword.arg != "args" or not isinstance(keyword.value, ast.Tuple):
                    continue
                for item in keyword.value.elts:
                    base = item.value if isinstance(item, ast.Attribute) else item
                    if isinstance(base, ast.Name) and (
                        base.id == "actor" or (base is item and base.id == "member")
                    ):
                        captured.append(f"{relative(path)}:{item.lineno}: {ast.unparse(item)}")
    assert not captured, "\n".join(captured)


def test_no_file_is_left_unchecked() -> None:
    """The chat package's exception ended when the guard reached it: nothing is pending."""
    assert frozenset() == PENDING


TOY = """
import streamlit as st
from webapp.auth.guard import member_action, view_action


@member_action("toy")
def save() -> None: ...


@view_action
def page_on() -> None: ...


def plain() -> None: ...


def draw(on_retry=None) -> None:
    def nested() -> None: ...

    st.button("Save", on_click=save)
    st.button("Next", on_click=page_on)
    st.button("Plain", on_click=plain)
    st.button("Lambda", on_click=lambda: None)
    st.button("Nested", on_click=nested)
    st.button("Forwarded", on_click=on_retry)
    st.download_button("CSV", data=b"", on_click="ignore")
    st.popover("Menu", on_change="rerun")
    st.button("Nothing", on_click=None)


def caller() -> None:
    draw(on_retry=plain)
    draw(on_retry=save)
"""


def test_the_check_finds_unguarded_lambda_nested_and_forwarded_callbacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toy = tmp_path / "views" / "toy.py"
    toy.parent.mkdir()
    toy.write_text(TOY, encoding="utf-8")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    sites = callback_sites([toy])
    assert sorted(ast.unparse(s.value) for s in sites) == sorted(
        ["save", "page_on", "plain", "lambda: None", "nested", "plain", "save"]
    )
    problems = unguarded(sites)
    lines = TOY.splitlines()

    def line_of(text: str) -> int:
        return next(i for i, line in enumerate(lines, 1) if text in line)

    assert sorted(problems) == sorted(
        [
            f"views/toy.py:{line_of('on_click=plain')} (on_click=): plain is neither a "
            "member_action nor a view_action (webapp.auth.guard)",
            f"views/toy.py:{line_of('on_retry=plain')} (on_retry=): plain is neither a "
            "member_action nor a view_action (webapp.auth.guard)",
            f"views/toy.py:{line_of('lambda')} (on_click=): cannot be checked (lambda: None "
            "is not a name); make it a module-level function decorated with member_action "
            "or view_action",
            f"views/toy.py:{line_of('on_click=nested')} (on_click=): cannot be checked "
            "(nested is local to draw()); make it a module-level function decorated with "
            "member_action or view_action",
        ]
    )
