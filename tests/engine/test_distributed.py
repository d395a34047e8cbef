"""Two gloo processes on CPU (FastReID's launch + DDP, through fastreid_ext's shims) end with identical weights."""
import os
import subprocess
import sys

import pytest
import torch

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def test_two_gloo_processes_stay_in_sync(synthvi_root, tmp_path):
    proc = subprocess.run([sys.executable, os.path.join(REPO, "tests", "engine", "ddp_train.py"), synthvi_root,
                           str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert torch.load(tmp_path / "world0.pth") == torch.load(tmp_path / "world1.pth") == 2
    rank0, rank1 = torch.load(tmp_path / "rank0.pth"), torch.load(tmp_path / "rank1.pth")
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    assert (tmp_path / "model_final.pth").is_file()
