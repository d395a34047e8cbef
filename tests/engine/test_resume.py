"""A run killed after epoch 0 and resumed with --resume ends exactly where an uninterrupted run ends,
with persistent loader workers, bounded checkpoints and a weights-only model_final.pth."""
import os

import pytest
import torch
from fastreid.engine.train_loop import HookBase

from fastreid_ext.engine import CMTrainer, load_trained_model
from fastreid_ext.engine.seeding import seed_everything
from tests.conftest import tiny_cfg

pytestmark = pytest.mark.slow


class Killed(Exception):
    pass


class KillAtEpoch(HookBase):
    def __init__(self, epoch):
        self.epoch = epoch

    def before_step(self):
        if self.trainer.epoch == self.epoch:
            raise Killed(f"killed before iteration {self.trainer.iter}")


def _trainer(cfg, resume=False):
    seed_everything(cfg.SEED, cfg.DETERMINISTIC)
    trainer = CMTrainer(cfg)
    trainer.resume_or_load(resume=resume)
    return trainer


def _state(trainer):
    return trainer.model.state_dict(), trainer.optimizer.state_dict(), trainer.scheduler["lr_sched"].state_dict()


def test_resume_is_exact(synthvi_root, tmp_path):
    opts = ["TEST.SETTINGS", ["all-1shot-seeded"], "SOLVER.WARMUP_ITERS", 3, "DATALOADER.NUM_WORKERS", 2,
            "SOLVER.CHECKPOINT_KEEP", 1, "SOLVER.FINAL_WEIGHTS_ONLY", True]
    straight = _trainer(tiny_cfg(synthvi_root, tmp_path / "straight", "projects/PAENet/configs/synthvi.yml", *opts))
    initial = {k: v.clone() for k, v in straight.model.state_dict().items()}
    straight.train()
    # Training moved the weights (else equality below would prove nothing).
    assert not torch.equal(initial["heads.weight"], straight.model.state_dict()["heads.weight"])
    assert not torch.equal(initial["backbone.visible.conv1.weight"],
                           straight.model.state_dict()["backbone.visible.conv1.weight"])
    assert straight.data_loader.persistent_workers
    k = straight.iters_per_epoch

    cfg = tiny_cfg(synthvi_root, tmp_path / "resumed", "projects/PAENet/configs/synthvi.yml", *opts)
    killed = _trainer(cfg)
    killed.register_hooks([KillAtEpoch(1)])
    with pytest.raises(Killed, match=f"before iteration {k}"):
        killed.train()
    assert (tmp_path / "resumed" / "last_checkpoint").read_text() == "model_0000.pth"

    resumed = _trainer(cfg, resume=True)
    assert resumed.start_epoch == 1
    resumed.train()
    assert resumed.iter == straight.iter == 2 * k

    (m1, o1, s1), (m2, o2, s2) = _state(straight), _state(resumed)
    assert m1.keys() == m2.keys()
    for key in m1:
        assert torch.equal(m1[key], m2[key]), key
    assert s1 == s2
    assert o1["param_groups"] == o2["param_groups"]
    for idx in o1["state"]:
        for name, value in o1["state"][idx].items():
            assert torch.equal(value, o2["state"][idx][name]), (idx, name)

    # The weights-only final file: no optimizer state, and the inference entry point loads it.
    final = tmp_path / "straight" / "model_final.pth"
    assert {"optimizer", "lr_sched"}.isdisjoint(torch.load(final, weights_only=True))
    cfg = straight.cfg.clone()
    cfg.defrost()
    cfg.MODEL.WEIGHTS = str(final)
    model, _ = load_trained_model(cfg)
    for key, value in model.state_dict().items():
        assert torch.equal(value, m1[key]), key


def test_a_finished_run_resumes_to_nothing(trained_tiny):
    """Resuming a run after its last epoch trains nothing, saves nothing and returns no results."""
    cfg = trained_tiny.clone()
    cfg.defrost()
    cfg.MODEL.WEIGHTS = ""

    def saved():  # (the trainer's TensorBoard writer opens a new events file)
        return {name: os.path.getmtime(os.path.join(cfg.OUTPUT_DIR, name)) for name in os.listdir(cfg.OUTPUT_DIR)
                if not name.startswith("events.out.tfevents")}
    before = saved()
    trainer = _trainer(cfg, resume=True)
    assert trainer.start_epoch == trainer.max_epoch == 1
    assert trainer.train() == {}
    assert saved() == before and "model_final.pth" in before and "last_checkpoint" in before
