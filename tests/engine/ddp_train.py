"""Worker script of test_distributed.py: train with 2 gloo processes, straight and resumed after epoch 0.

    python tests/engine/ddp_train.py DATA_ROOT OUT_DIR

Each rank saves its weights (``rank{r}.pth``, ``resumed{r}.pth``) and the image paths of every
training step it ran (``steps{r}.pth``).
"""
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

# fastreid_ext first: it patches FastReID for Python 3.11 before FastReID is imported.
# isort: off
from fastreid_ext.engine import CMTrainer  # noqa: E402
from fastreid_ext.engine.seeding import seed_everything  # noqa: E402
from tests.conftest import tiny_cfg  # noqa: E402
from fastreid.engine import launch  # noqa: E402
from fastreid.engine.train_loop import HookBase  # noqa: E402
from fastreid.utils import comm  # noqa: E402
# isort: on

# Global batch 16 = P 4 identities x (K 2 visible + 2 infrared): 2 identities a rank.
OPTS = ("SOLVER.MAX_EPOCH", 2, "TEST.SETTINGS", ["all-1shot-seeded"], "TEST.EVAL_PERIOD", 2,
        "DATALOADER.NUM_INSTANCE", 2, "DATALOADER.NUM_WORKERS", 1)


class RecordSteps(HookBase):
    """The image paths of the batch each training step consumed (runs after EpochReseed's restart)."""

    def __init__(self):
        self.steps = []

    def before_epoch(self):
        stream = self.trainer._trainer._data_loader_iter

        def recorded():
            for batch in stream:
                self.steps.append(list(batch["img_paths"]))
                yield batch
        self.trainer._trainer._data_loader_iter = recorded()


def _trainer(root, out_dir, resume=False):
    cfg = tiny_cfg(root, out_dir, "projects/PAENet/configs/synthvi.yml", *OPTS)
    seed_everything(cfg.SEED + comm.get_rank())  # different initial weights: DDP must broadcast rank 0's
    trainer = CMTrainer(cfg)
    trainer.resume_or_load(resume=resume)
    return trainer


def _params(trainer):
    # Parameters only: FastReID's DDP wrapper does not broadcast buffers, so each rank keeps the BN
    # running statistics of its own batches (checkpoints hold rank 0's).
    model = getattr(trainer.model, "module", trainer.model)
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def main(root, out_dir):
    torch.set_num_threads(1)  # two ranks and their loader workers share the CPU cores
    rank = comm.get_rank()
    trainer = _trainer(root, out_dir)
    record = RecordSteps()
    trainer.register_hooks([record])
    trainer.train()
    torch.save(_params(trainer), os.path.join(out_dir, f"rank{rank}.pth"))
    torch.save(record.steps, os.path.join(out_dir, f"steps{rank}.pth"))
    torch.save(comm.get_world_size(), os.path.join(out_dir, f"world{rank}.pth"))

    # A run killed after epoch 0 holds what the straight run held then: its epoch-0 checkpoint.
    resumed_dir = os.path.join(out_dir, "resumed")
    if comm.is_main_process():
        os.makedirs(resumed_dir)
        shutil.copy(os.path.join(out_dir, "model_0000.pth"), resumed_dir)
        with open(os.path.join(resumed_dir, "last_checkpoint"), "w") as f:
            f.write("model_0000.pth")
    comm.synchronize()
    resumed = _trainer(root, resumed_dir, resume=True)
    assert resumed.start_epoch == 1, resumed.start_epoch
    resumed.train()
    torch.save(_params(resumed), os.path.join(out_dir, f"resumed{rank}.pth"))


if __name__ == "__main__":
    launch(main, 2, dist_url="auto", args=tuple(sys.argv[1:3]))
