"""The one place that patches around FastReID 1.4.0 on modern Python, PyTorch and CPU-only machines.

FastReID 1.4.0 targets Python <= 3.9 and torch 1.x with CUDA. Every patch here is small, applied
once by :func:`apply` (called from ``fastreid_ext/__init__.py`` before anything imports
``fastreid``) and recorded in :data:`APPLIED`, so tests can check that it happened:

- ``collections_abc``: ``collections.Mapping`` & co. were removed in Python 3.10; FastReID's
  engine and evaluation import them from ``collections``.
- ``torch_six``: ``torch._six`` was removed in torch 2.0; FastReID's data package imports
  ``string_classes`` from it.
"""
import collections
import collections.abc
import sys
import types

APPLIED = []


def _collections_abc():
    for name in ("Mapping", "MutableMapping", "Sequence", "Iterable"):
        if not hasattr(collections, name):
            setattr(collections, name, getattr(collections.abc, name))


def _torch_six():
    if "torch._six" not in sys.modules:
        import torch

        six = types.ModuleType("torch._six")
        six.string_classes = (str, bytes)
        six.inf = float("inf")
        sys.modules["torch._six"] = six
        torch._six = six


_IMPORT_SHIMS = {"collections_abc": _collections_abc, "torch_six": _torch_six}


def apply():
    """Apply every shim once. Safe to call repeatedly."""
    for name, fn in _IMPORT_SHIMS.items():
        if name not in APPLIED:
            fn()
            APPLIED.append(name)
