"""fastreid_ext/utils/file_io.py: atomic writes with the umask's permissions, stale temporaries removed."""
import os
import stat

import pytest

from fastreid_ext.utils import atomic_write, remove_stale_temporaries


@pytest.fixture
def restore_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_permissions_follow_the_umask(tmp_path, restore_umask, mask, expected):
    os.umask(mask)
    path = tmp_path / "model_final.pth"
    atomic_write(str(path), lambda f: f.write(b"weights"))
    assert stat.S_IMODE(os.stat(path).st_mode) == expected
    # The same as a file that open() creates.
    with open(tmp_path / "plain", "w"):
        pass
    assert stat.S_IMODE(os.stat(tmp_path / "plain").st_mode) == expected


def test_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    path = tmp_path / "last_checkpoint"
    atomic_write(str(path), lambda f: f.write("model_0000001.pth"), mode="w")

    def fail(f):
        f.write("model_00")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(str(path), fail, mode="w")
    assert path.read_text() == "model_0000001.pth"
    assert os.listdir(tmp_path) == ["last_checkpoint"]


def test_remove_stale_temporaries_removes_only_atomic_write_leftovers(tmp_path):
    stale = [".model_0000004.pth.k2j_9x0a.tmp", ".last_checkpoint.abcdefgh.tmp"]
    kept = ["model_0000004.pth", "notes.tmp", ".model_final.pth.tmp", ".hidden.abc.tmp"]
    for name in stale + kept:
        (tmp_path / name).write_text("x")
    (tmp_path / ".dir.abcdefgh.tmp").mkdir()
    assert remove_stale_temporaries(str(tmp_path)) == sorted(str(tmp_path / name) for name in stale)
    assert sorted(os.listdir(tmp_path)) == sorted(kept + [".dir.abcdefgh.tmp"])
    assert remove_stale_temporaries(str(tmp_path / "absent")) == []
