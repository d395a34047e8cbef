"""Worker script of test_distributed.py: train with 2 gloo processes, each rank saves its weights.

    python tests/engine/ddp_train.py DATA_ROOT OUT_DIR
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.conftest import tiny_cfg  # noqa: E402
from fastreid.engine import launch  # noqa: E402
from fastreid.utils import comm  # noqa: E402
from fastreid_ext.engine import CMTrainer  # noqa: E402
from fastreid_ext.engine.seeding import seed_everything  # noqa: E402


def main(root, out_dir):
    cfg = tiny_cfg(root, out_dir, "projects/PAENet/configs/synthvi.yml", "SOLVER.MAX_EPOCH", 1,
                   "TEST.SETTINGS", ["all-1shot-seeded"], "TEST.EVAL_PERIOD", 1)
    seed_everything(cfg.SEED + comm.get_rank())  # different initial weights: DDP must broadcast rank 0's
    trainer = CMTrainer(cfg)
    trainer.resume_or_load(resume=False)
    trainer.train()
    model = getattr(trainer.model, "module", trainer.model)
    # Parameters only: FastReID's DDP wrapper does not broadcast buffers, so each rank keeps the BN
    # running statistics of its own batches (checkpoints hold rank 0's).
    torch.save({k: v.detach().clone() for k, v in model.named_parameters()},
               os.path.join(out_dir, f"rank{comm.get_rank()}.pth"))
    torch.save(comm.get_world_size(), os.path.join(out_dir, f"world{comm.get_rank()}.pth"))


if __name__ == "__main__":
    launch(main, 2, dist_url="auto", args=tuple(sys.argv[1:3]))
