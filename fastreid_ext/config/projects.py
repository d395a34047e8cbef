"""Projects found through the ``fastreid_ext.projects`` entry-point group (see docs/architecture.md)."""
import functools
from importlib.metadata import entry_points

ENTRY_POINT_GROUP = "fastreid_ext.projects"

__all__ = ["ENTRY_POINT_GROUP", "load_projects"]


@functools.cache
def load_projects() -> tuple[str, ...]:
    """Import every installed project's package (which registers its components and config keys) and return
    the packages' names, in entry-point name order; a project is a ``name = "package"`` line of the group."""
    found = entry_points()
    # Python 3.9 returns a dict of groups; 3.10+ selects by keyword.
    group = found.select(group=ENTRY_POINT_GROUP) if hasattr(found, "select") else found.get(ENTRY_POINT_GROUP, ())
    names = []
    for entry in sorted(group, key=lambda e: e.name):
        try:
            module = entry.load()
        except ImportError as e:
            raise ImportError(f"project {entry.name!r} ({ENTRY_POINT_GROUP} entry point {entry.value!r}) "
                              f"cannot be imported: {e}") from e
        names.append(module.__name__)
    return tuple(names)
