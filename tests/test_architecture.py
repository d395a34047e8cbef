"""The floors of docs/architecture.md: no module of fastreid_ext imports from a floor above its own."""
import ast
import os

import pytest

import fastreid_ext
from tests.conftest import PACKAGE_ROOT, package_modules

# Bottom to top, as in docs/architecture.md. A package may import its own floor and the floors beneath it.
LAYERS = (
    ("utils", "config"),
    ("data", "modeling", "retrieval"),
    ("evaluation",),
    ("engine", "export", "ablation"),
    ("visualization", "search"),
)
FLOOR = {package: floor for floor, packages in enumerate(LAYERS) for package in packages}
# Packages held to fewer imports than their floor allows: the index library uses only utils (and numpy, torch, faiss).
ONLY = {"retrieval": ("utils",)}
# Modules of the package root, outside the floors: compat (beneath everything: it imports no other module of
# fastreid_ext) and the root __init__, which imports the floors to register them (nothing imports it back).
BELOW_ALL = ("compat",)


def _imported(module, path):
    """(line, dotted fastreid_ext module) of every import in ``path`` (function-level ones included)."""
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            # `from pkg import name` may name a submodule: count it as that module when it is one.
            targets = [f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base for alias in node.names]
        else:
            continue
        for target in dict.fromkeys(targets):
            if target == "fastreid_ext" or target.startswith("fastreid_ext."):
                yield node.lineno, target


def _is_module(dotted):
    path = os.path.join(os.path.dirname(PACKAGE_ROOT), *dotted.split("."))
    return os.path.isfile(path + ".py") or os.path.isfile(os.path.join(path, "__init__.py"))


def _floor(module):
    """Floor index of a fastreid_ext module; -1 beneath every floor; None for the package root."""
    parts = module.split(".")
    if len(parts) == 1:
        return None
    if parts[1] in BELOW_ALL:
        return -1
    if parts[1] not in FLOOR:
        raise AssertionError(f"{module}: package {parts[1]!r} is on no floor: add it to LAYERS here and in "
                             "docs/architecture.md")
    return FLOOR[parts[1]]


def upward_imports():
    """``path:line: importer imports target`` for each import that goes up a floor (or into the root), or out
    of what :data:`ONLY` allows."""
    found = []
    for module, path in package_modules():
        own = _floor(module)
        if own is None:
            continue  # the root __init__ imports the floors to register them
        package = module.split(".")[1]
        for line, target in _imported(module, path):
            floor, other = _floor(target), target.split(".")[1] if "." in target else None
            if floor is None or floor > own:
                where = "the package root" if floor is None else f"floor {floor} {LAYERS[floor]}"
            elif package in ONLY and other not in (package, *ONLY[package], *BELOW_ALL):
                where = f"{package} may import only {ONLY[package]}"
            else:
                continue
            found.append(f"{os.path.relpath(path, os.path.dirname(PACKAGE_ROOT))}:{line}: {module} "
                         f"(floor {own}) imports {target} ({where})")
    return found


def test_every_package_is_on_a_floor():
    packages = {name for name in os.listdir(PACKAGE_ROOT)
                if os.path.isfile(os.path.join(PACKAGE_ROOT, name, "__init__.py"))}
    assert packages - set(FLOOR) == set()


def test_layers_match_the_architecture_page():
    with open(os.path.join(os.path.dirname(PACKAGE_ROOT), "docs", "architecture.md")) as f:
        page = f.read()
    for floor, packages in enumerate(LAYERS):
        assert f"{floor}. " + ", ".join(f"`{p}`" for p in packages) in page


def test_the_walk_sees_relative_and_absolute_imports(tmp_path):
    module = tmp_path / "fastreid_ext" / "evaluation" / "x.py"
    module.parent.mkdir(parents=True)
    module.write_text("from ..data.datasets import bases\nfrom . import metrics\nimport fastreid_ext.engine\n"
                      "def f():\n    from ..visualization import rank_list\n")
    found = list(_imported("fastreid_ext.evaluation.x", str(module)))
    assert found == [(1, "fastreid_ext.data.datasets.bases"), (2, "fastreid_ext.evaluation.metrics"),
                     (3, "fastreid_ext.engine"), (5, "fastreid_ext.visualization.rank_list")]
    assert [_floor(target) for _, target in found] == [1, 2, 3, 4]


def _project_names(path, projects):
    """(line, text) of every name, attribute, import or string of ``path`` (docstrings aside) naming a project."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        texts = []
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            texts = [node.value]
        elif isinstance(node, ast.Name):
            texts = [node.id]
        elif isinstance(node, ast.Attribute):
            texts = [node.attr]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            texts = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
        for text in texts:
            if any(project in text.lower() for project in projects):
                yield node.lineno, text


def test_the_core_names_no_project():
    projects = fastreid_ext.config.load_projects()
    assert projects, "no project is installed: pip install -e . registers PAENet's entry point"
    found = [f"{os.path.relpath(path, os.path.dirname(PACKAGE_ROOT))}:{line}: {text!r}"
             for _, path in package_modules() for line, text in _project_names(path, projects)]
    assert found == []


def test_imports_only_go_down_the_floors():
    found = upward_imports()
    if found:
        pytest.fail(f"{len(found)} import(s) go up the floors of docs/architecture.md:\n" + "\n".join(found))
