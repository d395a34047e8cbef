"""STYLE.md: the public functions of fastreid_ext carry type hints (every parameter and the return)."""
import ast
import importlib
import os
import typing

from tests.conftest import PACKAGE_ROOT, package_modules


def _public_functions(path):
    """(qualified name, FunctionDef) of the module-level functions of ``path`` and the methods of its public
    classes whose names do not start with an underscore (``__init__`` included)."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            methods, prefix = [node], ""
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            methods, prefix = [n for n in node.body if isinstance(n, ast.FunctionDef)], node.name + "."
        else:
            continue
        for function in methods:
            if not function.name.startswith("_") or function.name == "__init__":
                yield prefix + function.name, function


def _unhinted(function):
    """Names of the parameters (``return`` for the result) of ``function`` without an annotation."""
    arguments = function.args
    missing = [a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)
               if a.annotation is None and a.arg not in ("self", "cls")]
    if function.returns is None and function.name != "__init__":
        missing.append("return")
    return missing


def test_public_functions_carry_type_hints():
    missing = [f"{os.path.relpath(path, os.path.dirname(PACKAGE_ROOT))}:{function.lineno} {name}: {', '.join(names)}"
               for _, path in package_modules() for name, function in _public_functions(path)
               for names in (_unhinted(function),) if names]
    assert not missing, "public functions without type hints:\n" + "\n".join(missing)


def test_the_hints_resolve():
    """Every hint names something the module can see (a string hint included)."""
    for module_name, path in package_modules():
        module = importlib.import_module(module_name)
        for name, _ in _public_functions(path):
            owner = module
            for part in name.split("."):
                owner = getattr(owner, part)
            typing.get_type_hints(owner.fget if isinstance(owner, property) else owner)  # NameError on an unknown name


def test_the_check_finds_a_missing_hint(tmp_path):
    path = tmp_path / "example.py"
    path.write_text("def f(a: int, b) -> int:\n    return a\n\n\nclass C:\n    def g(self, x: int):\n        pass\n\n"
                    "    def _private(self, y):\n        pass\n")
    found = {name: _unhinted(function) for name, function in _public_functions(str(path))}
    assert found == {"f": ["b"], "C.g": ["return"]}

