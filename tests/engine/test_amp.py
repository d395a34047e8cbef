"""SOLVER.AMP.ENABLED on CUDA: PAENet steps under fp16 autocast, losses in fp32, skipped steps counted."""
import pytest
import torch

from fastreid_ext.engine import CMTrainer
from fastreid_ext.engine.hooks import AMPSkippedSteps
from fastreid_ext.engine.seeding import seed_everything
from tests.conftest import tiny_cfg

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="AMP (SOLVER.AMP.ENABLED) needs CUDA")]


def test_amp_steps_keep_losses_in_fp32(synthvi_root, tmp_path):
    cfg = tiny_cfg(synthvi_root, tmp_path, "projects/PAENet/configs/synthvi.yml", "MODEL.DEVICE", "cuda",
                   "SOLVER.AMP.ENABLED", True, "SOLVER.MAX_EPOCH", 2, "TEST.EVAL_PERIOD", 0,
                   "TEST.SETTINGS", ["all-1shot-seeded"], "DETERMINISTIC", False)
    seed_everything(cfg.SEED)
    trainer = CMTrainer(cfg)
    trainer.resume_or_load(resume=False)
    model = trainer.model
    seen = []
    model.heads.register_forward_hook(lambda m, i, out: seen.append(("head", out["features"].dtype)))
    for loss in model.losses:
        loss.register_forward_hook(lambda m, i, out: seen.append(
            (m.loss_name, i[0]["features"].dtype, out.dtype, torch.is_autocast_enabled("cuda"),
             bool(torch.isfinite(out)))))
    counter = next(h for h in trainer._hooks if isinstance(h, AMPSkippedSteps))
    trainer.train()

    assert trainer.iter == 2 * trainer.iters_per_epoch > 0
    heads = [s for s in seen if s[0] == "head"]
    losses = [s for s in seen if s[0] != "head"]
    assert heads and all(dtype == torch.float16 for _, dtype in heads)  # autocast ran the network in fp16
    assert {s[0] for s in losses} == {"loss_cls", "loss_mmd", "loss_hct", "loss_attr"}
    assert all(s[1:4] == (torch.float32, torch.float32, False) for s in losses), losses
    history = trainer.storage.history("amp_skipped_steps").values()
    assert len(history) == trainer.iter and history[-1][0] == counter.skipped <= trainer.iter
    print(f"AMP: {counter.skipped} of {trainer.iter} steps skipped by the GradScaler; "
          f"final scale {trainer._trainer.grad_scaler.get_scale()}")
