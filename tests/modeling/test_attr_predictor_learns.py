"""The attribute predictor (MODEL.HEADS.ATTR_PRED: BN + FC by default) learns.

On pooled features with the statistics that ``attr_pred/*`` logs in a real run (post-ReLU, batch mean
energy about 10^3, covariance trace about 16), at the recipe's rate and momentum, it reaches a high mA
within a few dozen steps, where a plain FC (``NORM none``) stays at chance. And the whole model, trained
from scratch under each baseline's loss set, moves its mA well off chance.
"""
import pytest
import torch
from fastreid.modeling.heads import build_heads
from fastreid.utils.events import EventStorage
from torch.nn import functional as F

from fastreid_ext.config import get_cfg
from fastreid_ext.engine import CMTrainer
from fastreid_ext.engine.seeding import seed_everything
from fastreid_ext.evaluation.attr_metrics import attribute_metrics
from paenet.ablation import BASELINE_LOSSES
from tests.conftest import REPO, tiny_cfg

CONFIG = "projects/PAENet/configs/synthvi.yml"


def _gem_like(n, mean, num_attributes, generator, cov_trace=16.0):
    """(n, C) post-ReLU features ``relu(mean + z)``, z ~ N(0, cov_trace / C) per channel, and (n, A) labels:
    attribute a is ``z_a > 0``, so only the centred part carries them."""
    z = torch.randn(n, mean.numel(), generator=generator) * (cov_trace / mean.numel()) ** 0.5
    return (mean + z).clamp_min(0), (z[:, :num_attributes] > 0).float()


def test_predictor_learns_on_gem_statistics():
    cfg = get_cfg()
    cfg.merge_from_file(f"{REPO}/{CONFIG}")
    cfg.merge_from_list(["MODEL.HEADS.NAME", "CMEmbeddingHead", "MODEL.HEADS.NUM_CLASSES", 10])
    torch.manual_seed(0)
    predictor = build_heads(cfg).attr_predictor
    solver = cfg.SOLVER
    optimizer = torch.optim.SGD(predictor.parameters(), momentum=solver.MOMENTUM, nesterov=solver.NESTEROV,
                                lr=solver.BASE_LR * solver.HEADS_LR_FACTOR * solver.ATTR_PRED_LR_FACTOR,
                                weight_decay=solver.WEIGHT_DECAY)
    generator = torch.Generator().manual_seed(0)
    mean = torch.rand(cfg.MODEL.BACKBONE.FEAT_DIM, generator=generator)
    mean *= 1000 ** 0.5 / mean.norm()  # |mean|^2 = 10^3
    num_attributes = cfg.MODEL.HEADS.NUM_ATTRIBUTES
    test_x, test_y = _gem_like(512, mean, num_attributes, generator)
    for _ in range(50):
        x, y = _gem_like(32, mean, num_attributes, generator)
        loss = F.binary_cross_entropy_with_logits(predictor(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    predictor.eval()
    with torch.no_grad():
        probs = predictor(test_x).sigmoid()
    # Chance is 0.5 (balanced accuracy); BN + FC: 0.85 here, a plain FC: 0.53.
    assert attribute_metrics(test_y.numpy(), probs.numpy())["mA"] >= 0.75


def _mA(model, pool):
    """mA of the test-time ``attr_probs`` over the batches in ``pool``."""
    model.eval()
    with torch.no_grad():
        probs = torch.cat([model(batch)["attr_probs"] for batch in pool])
    model.train()
    return attribute_metrics(torch.cat([batch["attributes"] for batch in pool]).numpy(), probs.numpy())["mA"]


@pytest.mark.slow
@pytest.mark.parametrize("loss_set", sorted(BASELINE_LOSSES))
def test_predictor_learns_under_each_loss_set(synthvi_root, tmp_path, loss_set):
    cfg = tiny_cfg(synthvi_root, tmp_path, CONFIG, "MODEL.HEADS.NAME", "CMEmbeddingHead",
                   "MODEL.LOSSES.NAME", str(BASELINE_LOSSES[loss_set] + ("AttributeBCELoss",)))
    seed_everything(cfg.SEED)
    trainer = CMTrainer(cfg)
    model, optimizer = trainer.model, trainer.optimizer
    batches = iter(trainer.data_loader)
    pool = [next(batches) for _ in range(12)]  # training images of every identity, held fixed
    curve = []
    with EventStorage(0):
        for step in range(1, 101):
            losses = model(next(batches))
            optimizer.zero_grad()
            sum(losses.values()).backward()
            optimizer.step()
            if step == 10 or (step >= 50 and step % 10 == 0):
                curve.append(_mA(model, pool))
    # From scratch on 10 identities, best of steps 50-100: 0.69-0.82 (seed 1, this test), 0.64-0.89 (seed 2).
    assert curve[0] < 0.6 and max(curve[1:]) >= 0.62, curve
