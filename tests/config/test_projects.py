import pytest
from fastreid.modeling.heads import REID_HEADS_REGISTRY

import fastreid_ext  # noqa: F401  (patches FastReID, loads the projects)
from fastreid_ext.config import ENTRY_POINT_GROUP, get_cfg, load_projects


def test_paenet_is_found_through_its_entry_point():
    assert load_projects() == ("paenet",)
    assert "PAENetHead" in REID_HEADS_REGISTRY._obj_map
    assert get_cfg().MODEL.PAE.ENABLED is True


@pytest.fixture
def broken_project(tmp_path, monkeypatch):
    """An installed distribution whose project entry point names a module that does not exist."""
    info = tmp_path / "broken_project-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-project\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nbroken = no_such_package_here\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    load_projects.cache_clear()
    yield
    load_projects.cache_clear()


def test_a_project_that_cannot_be_imported_is_named(broken_project):
    with pytest.raises(ImportError, match=r"project 'broken' \(fastreid_ext.projects entry point "
                                          r"'no_such_package_here'\) cannot be imported"):
        load_projects()
