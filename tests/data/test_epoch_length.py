"""DATALOADER.EPOCH_LENGTH: FastReID's epoch (images // batch) or the anchors' identity sampler's
(max(N_visible, N_infrared) // (P K) + 1), and a trainer that runs exactly that many iterations an epoch."""
import pytest

from fastreid_ext.data import INFRARED, VISIBLE, Item
from fastreid_ext.data.samplers import iterations_per_epoch
from fastreid_ext.engine import CMTrainer
from fastreid_ext.engine.seeding import seed_everything
from tests.conftest import tiny_cfg


def items(visible, infrared):
    return [Item(f"{i}.jpg", i % 3, 1 if m == VISIBLE else 3, m, None)
            for i, m in enumerate([VISIBLE] * visible + [INFRARED] * infrared)]


def test_lengths_on_hand_counted_items():
    data = items(visible=21, infrared=10)  # 31 images; batch 8 = P·(K + K) with P·K = 4
    assert iterations_per_epoch(data, 8, "images") == 3  # 31 // 8
    assert iterations_per_epoch(data, 8, "modality") == 6  # 21 // 4 + 1
    assert iterations_per_epoch(items(10, 20), 8, "modality") == 6  # the larger modality: 20 // 4 + 1
    assert iterations_per_epoch(items(8, 8), 8, "modality") == 3  # 8 // 4 + 1, as the anchors' range(N/(PK) + 1)


def test_unknown_length_names_the_key():
    with pytest.raises(ValueError, match=r"DATALOADER.EPOCH_LENGTH 'batches'.*images.*modality"):
        iterations_per_epoch(items(4, 4), 8, "batches")


@pytest.mark.parametrize("length", ["images", "modality"])
def test_trainer_runs_the_configured_epoch(synthvi_root, tmp_path, length):
    cfg = tiny_cfg(synthvi_root, tmp_path, "configs/SYSU/mmd.yml", "DATALOADER.EPOCH_LENGTH", length,
                   "SOLVER.MAX_EPOCH", 1, "TEST.SETTINGS", ["all-1shot-seeded"])
    seed_everything(cfg.SEED)
    trainer = CMTrainer(cfg)
    train = trainer._trainer.data_loader.dataset.img_items
    visible = sum(item.modality == VISIBLE for item in train)
    expected = {"images": len(train) // 16, "modality": max(visible, len(train) - visible) // 8 + 1}[length]
    assert trainer.iters_per_epoch == expected and trainer.max_iter == expected
    trainer.train()
    assert trainer.iter == expected
