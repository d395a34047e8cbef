import types
from pathlib import Path

import pytest
import torch
from fastreid.engine import hooks
from fastreid.modeling.backbones import build_backbone as build_model_backbone
from fastreid.modeling.meta_arch import build_model
from fastreid.solver.build import build_lr_scheduler
from fastreid.utils.events import EventStorage

import fastreid_ext  # noqa: F401  (first: patches FastReID before it is imported)
import fastreid_ext.modeling  # noqa: F401
from fastreid_ext.config import get_cfg
from fastreid_ext.data import INFRARED, VISIBLE, Item
from fastreid_ext.data.samplers import iterations_per_epoch

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def load(name):
    cfg = get_cfg()
    cfg.merge_from_file(str(CONFIGS / name))
    return cfg


def lr_per_epoch(cfg, iters_per_epoch, epochs):
    """The learning rate at the start of each epoch, stepped by FastReID's own LRScheduler hook."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=cfg.SOLVER.BASE_LR, momentum=0.9)
    hook = hooks.LRScheduler(optimizer, build_lr_scheduler(cfg, optimizer, iters_per_epoch))
    hook.trainer = trainer = types.SimpleNamespace(iter=0, warmup_iters=cfg.SOLVER.WARMUP_ITERS,
                                                   delay_epochs=cfg.SOLVER.DELAY_EPOCHS, grad_scaler=None)
    lrs = []
    with EventStorage(0) as trainer.storage:
        for trainer.epoch in range(epochs):
            lrs.append(optimizer.param_groups[0]["lr"])
            for _ in range(iters_per_epoch):
                optimizer.step()
                hook.after_step()
                trainer.iter += 1
            hook.after_epoch()
    return lrs


@pytest.mark.parametrize("name,visible,infrared,drops", [
    ("Base-CM.yml", 22258, 11909, (30, 50)),  # SYSU-MM01's training images
    ("SYSU/mmd.yml", 22258, 11909, (20, 50)),
    ("SYSU/agw.yml", 22258, 11909, (20, 50)),
    ("SYSU/hct.yml", 22258, 11909, (20, 50)),
    ("RegDB/mmd.yml", 2060, 2060, (20, 50)),  # 206 identities x 10 images a modality
    ("LLCM/mmd.yml", 16946, 13975, (20, 50)),
])
def test_warm_up_and_decays_land_on_the_stated_epochs(name, visible, infrared, drops):
    cfg = load(name)
    base = cfg.SOLVER.BASE_LR
    items = [Item(str(i), 0, 1, VISIBLE if i < visible else INFRARED, None) for i in range(visible + infrared)]
    epoch = iterations_per_epoch(items, cfg.SOLVER.IMS_PER_BATCH, cfg.DATALOADER.EPOCH_LENGTH)
    lrs = lr_per_epoch(cfg, epoch, drops[1] + 1)
    assert lrs[0] == pytest.approx(0.1 * base)
    assert lrs[9] < base and lrs[10] == pytest.approx(base)  # 10 warm-up epochs
    assert lrs[drops[0] - 1] == pytest.approx(base) and lrs[drops[0]] == pytest.approx(0.1 * base)
    assert lrs[drops[1] - 1] == pytest.approx(0.1 * base) and lrs[drops[1]] == pytest.approx(0.01 * base)


@pytest.mark.parametrize("name,losses,shared_from", [
    ("Base-CM.yml", {"loss_cls"}, "layer1"),
    ("SYSU/mmd.yml", {"loss_cls", "loss_mmd", "loss_hct"}, "layer3"),
    ("SYSU/agw.yml", {"loss_cls", "loss_wrt"}, "layer1"),
    ("SYSU/hct.yml", {"loss_cls", "loss_hct"}, "layer2"),
])
def test_configs_build_their_model(name, losses, shared_from):
    cfg = load(name)
    assert cfg.MODEL.BACKBONE.DEPTH == "50x" and cfg.INPUT.SIZE_TRAIN == [288, 144]
    cfg.merge_from_list(["MODEL.DEVICE", "cpu", "MODEL.BACKBONE.PRETRAIN", False, "MODEL.BACKBONE.DEPTH", "18x",
                         "MODEL.BACKBONE.FEAT_DIM", 512, "MODEL.HEADS.NUM_CLASSES", 4])
    model = build_model(cfg)
    assert {loss.loss_name for loss in model.losses} == losses
    assert model.backbone.shared.stages[0] == shared_from
    assert type(model.heads).__name__ == "CMEmbeddingHead"


@pytest.mark.parametrize("opts,inter", [
    ((), {512: 256, 1024: 512}),  # C/2, the AGW baseline's width
    (("MODEL.BACKBONE.NL_INTER_CHANNELS", 1), {512: 1, 1024: 1}),  # the released codes' width
])
def test_agw_nonlocal_width(opts, inter):
    from fastreid.layers import Non_local

    cfg = load("SYSU/agw.yml")
    cfg.merge_from_list(["MODEL.BACKBONE.PRETRAIN", False, *opts])
    backbone = build_model_backbone(cfg)
    blocks = [m for m in backbone.modules() if isinstance(m, Non_local)]
    assert blocks  # ResNet-50 with WITH_NL: 2 blocks in layer2, 3 in layer3 (per stream where not shared)
    for block in blocks:
        c = block.g.in_channels
        assert block.inter_channels == block.g.out_channels == block.theta.out_channels == inter[c]
        assert block.W[0].in_channels == inter[c] and block.W[0].out_channels == c
    x = torch.randn(1, 3, 64, 32)
    backbone.eval()(x, torch.zeros(1, dtype=torch.long))
