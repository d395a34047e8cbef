"""Two gloo processes on CPU (FastReID's launch + DDP, through fastreid_ext's shims): identical weights,
the one-process batches split between the ranks, and an exact resume."""
import os
import subprocess
import sys

import pytest
import torch

from fastreid_ext.data import build_cm_train_loader
from tests.conftest import REPO, tiny_cfg
from tests.engine.ddp_train import OPTS

pytestmark = pytest.mark.slow


def _one_process_steps(cfg, epochs, iters_per_epoch):
    loader = build_cm_train_loader(cfg)
    steps = []
    for epoch in range(epochs):
        loader.batch_sampler.set_epoch(epoch)
        stream = iter(loader)
        steps += [list(next(stream)["img_paths"]) for _ in range(iters_per_epoch)]
    return steps


def _identity(path):
    return path.split(os.sep)[-2]  # SYSU-MM01 layout: cam<k>/<pid>/<image>


def test_two_gloo_processes(synthvi_root, tmp_path):
    proc = subprocess.run([sys.executable, os.path.join(REPO, "tests", "engine", "ddp_train.py"), synthvi_root,
                           str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=2400)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert torch.load(tmp_path / "world0.pth") == torch.load(tmp_path / "world1.pth") == 2
    rank0, rank1 = torch.load(tmp_path / "rank0.pth"), torch.load(tmp_path / "rank1.pth")
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    assert (tmp_path / "model_final.pth").is_file()

    # SOLVER.IMS_PER_BATCH is global: at every step the two ranks' batches together are the one-process
    # batch of the same seed, identity for identity and image for image, and no identity is on both ranks.
    steps0, steps1 = torch.load(tmp_path / "steps0.pth"), torch.load(tmp_path / "steps1.pth")
    cfg = tiny_cfg(synthvi_root, tmp_path / "one", "projects/PAENet/configs/synthvi.yml", *OPTS)
    assert len(steps0) == len(steps1) > 2
    one = _one_process_steps(cfg, 2, len(steps0) // 2)
    assert len({_identity(p) for p in one[0]}) == 4
    for step, (part0, part1, whole) in enumerate(zip(steps0, steps1, one)):
        assert len(part0) == len(part1) == len(whole) // 2 == 8, step
        assert not {_identity(p) for p in part0} & {_identity(p) for p in part1}, step
        assert {_identity(p) for p in part0 + part1} == {_identity(p) for p in whole}, step
        assert sorted(part0 + part1) == sorted(whole), step

    # Resumed with both ranks from the straight run's epoch-0 checkpoint: the weights of the straight run.
    epoch0 = torch.load(tmp_path / "resumed" / "model_0000.pth", weights_only=True)["model"]
    assert not torch.equal(epoch0["heads.weight"], rank0["heads.weight"])  # epoch 1 moved the weights
    for name in ("resumed0.pth", "resumed1.pth"):
        resumed = torch.load(tmp_path / name)
        for key in rank0:
            assert torch.equal(resumed[key], rank0[key]), (name, key)
