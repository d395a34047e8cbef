import os

import numpy as np
import pytest
import torch
from fastreid.utils import comm
from scipy.io import savemat

from fastreid_ext.config import get_cfg
from fastreid_ext.data import (
    CMDataset,
    build_cm_dataset,
    build_cm_test_loader,
    build_cm_train_loader,
    image_cache,
)
from fastreid_ext.data.build import resolve_num_workers
from fastreid_ext.data.samplers import CrossModalityIdentitySampler
from fastreid_ext.modeling.losses.attribute_bce import AttributeBCELoss


def tiny_cfg(root, names=("SYSUMM01",)):
    cfg = get_cfg()
    cfg.DATASETS.ROOT = root
    cfg.DATASETS.NAMES = names
    cfg.INPUT.SIZE_TRAIN = [16, 8]
    cfg.INPUT.SIZE_TEST = [16, 8]
    cfg.INPUT.PADDING.SIZE = 2
    cfg.SOLVER.IMS_PER_BATCH = 8  # P = 2 identities x (K = 2 visible + 2 infrared)
    cfg.DATALOADER.NUM_INSTANCE = 2
    cfg.DATALOADER.NUM_WORKERS = 0
    cfg.TEST.IMS_PER_BATCH = 4
    cfg.SEED = 0
    return cfg


def write_attributes(sysu_dir):
    with open(os.path.join(sysu_dir, "attributes.csv"), "w") as f:
        f.write("pid,a,b\n" + "".join(f"{pid},{pid % 2},{int(pid > 4)}\n" for pid in (1, 2, 3, 5, 6, 8)))


def test_train_batches(sysu_dir):
    write_attributes(sysu_dir)
    loader = build_cm_train_loader(tiny_cfg(os.path.dirname(sysu_dir)))
    assert isinstance(loader.batch_sampler.sampler, CrossModalityIdentitySampler)
    batch = next(iter(loader))
    assert sorted(batch) == ["attributes", "camids", "images", "img_paths", "modalities", "targets"]
    assert batch["images"].shape == (8, 3, 16, 8) and batch["images"].dtype == torch.float32
    assert batch["modalities"].tolist() == [0] * 4 + [1] * 4
    assert batch["targets"].dtype == torch.long and batch["targets"][:4].tolist() == batch["targets"][4:].tolist()
    assert set(batch["targets"].tolist()) <= {0, 1, 2}  # SYSUMM01_1, _2, _3 relabelled
    for path, target, attributes in zip(batch["img_paths"], batch["targets"], batch["attributes"]):
        pid = int(path.split("/")[-2])
        assert target.item() == pid - 1
        assert attributes.dtype == torch.float32 and attributes.tolist() == [pid % 2, int(pid > 4)]


def per_camera_vector(cam, pid):
    """8 bits that differ between any two cameras of one identity."""
    return [((pid * 37 + cam * 29) >> bit) & 1 for bit in range(8)]


def write_released_mats(sysu_dir, width=9):
    os.makedirs(os.path.join(sysu_dir, "attribute"))
    for cam in range(1, 7):
        matrix = np.array([per_camera_vector(cam, pid) for pid in range(1, width + 1)], dtype=np.uint8).T
        savemat(os.path.join(sysu_dir, "attribute", f"cam{cam}_att.mat"), {f"cam{cam}_att": matrix})


def test_batches_carry_each_camera_own_attributes(sysu_dir):
    """What the attribute loss trains on (training batches) and the gt test-time source reads (test
    batches) is the vector of the image's own camera: one identity, two cameras, two vectors."""
    write_released_mats(sysu_dir)
    cfg = tiny_cfg(os.path.dirname(sysu_dir))
    cfg.DATASETS.SYSU.ATTRIBUTES = "attribute"
    batch = next(iter(build_cm_train_loader(cfg)))
    by_target = {}
    for path, target, attributes in zip(batch["img_paths"], batch["targets"].tolist(), batch["attributes"]):
        cam, pid = int(path.split("/")[-3][3:]), int(path.split("/")[-2])
        assert attributes.tolist() == per_camera_vector(cam, pid)
        by_target.setdefault(target, {})[cam] = tuple(attributes.tolist())
    assert all(len(set(vectors.values())) == len(vectors) >= 2 for vectors in by_target.values())
    logits = 20.0 * (2 * batch["attributes"] - 1)
    loss = AttributeBCELoss(outputs=("attr_logits",))
    assert loss({"attr_logits": logits}, batch) < 1e-6
    first_camera = torch.stack([logits[batch["targets"] == t][0] for t in batch["targets"]])
    assert loss({"attr_logits": first_camera}, batch) > 1.0  # one vector per identity would not fit

    data = build_cm_dataset(cfg, "SYSUMM01")
    test_batch = next(iter(build_cm_test_loader(cfg, data.query + data.gallery)))
    rows = zip(test_batch["img_paths"], test_batch["camids"].tolist(), test_batch["attributes"])
    for path, cam, attributes in rows:
        assert attributes.tolist() == per_camera_vector(cam, int(path.split("/")[-2]))


def test_no_attributes_key_without_attributes(sysu_dir):
    batch = next(iter(build_cm_train_loader(tiny_cfg(os.path.dirname(sysu_dir)))))
    assert "attributes" not in batch


def test_set_epoch_replays_an_epoch(sysu_dir):
    loader = build_cm_train_loader(tiny_cfg(os.path.dirname(sysu_dir)))

    def epoch(e, n=4):
        loader.batch_sampler.sampler.set_epoch(e)
        torch.manual_seed(e)  # the trainer reseeds the RNGs per epoch too
        stream = iter(loader)
        return [next(stream) for _ in range(n)]

    first, second, again = epoch(0), epoch(1), epoch(0)
    assert [b["img_paths"] for b in first] == [b["img_paths"] for b in again] != [b["img_paths"] for b in second]
    assert all(torch.equal(a["images"], b["images"]) for a, b in zip(first, again))


def _epochs(loader, epochs, n=3):
    out = []
    for e in epochs:
        loader.batch_sampler.set_epoch(e)
        stream = iter(loader)
        out.append([next(stream) for _ in range(n)])
    return out


def _same(a, b):
    return all(x["img_paths"] == y["img_paths"] and torch.equal(x["images"], y["images"])
               for x, y in zip(a, b))


def test_persistent_workers_give_the_batches_of_the_main_process(sysu_dir):
    cfg = tiny_cfg(os.path.dirname(sysu_dir))
    main = _epochs(build_cm_train_loader(cfg), (0, 1, 0))
    assert _same(main[0], main[2]) and not _same(main[0], main[1])
    torch.manual_seed(99)  # the global RNGs do not enter: each item carries its seed
    cfg.DATALOADER.NUM_WORKERS = 2
    loader = build_cm_train_loader(cfg)
    assert loader.persistent_workers
    workers = _epochs(loader, (0, 1, 0))
    for a, b in zip(main, workers):
        assert _same(a, b)
    cfg.SEED = 1
    assert not _same(_epochs(build_cm_train_loader(cfg), (0,))[0], main[0])


def test_image_cache_gives_the_same_batches(sysu_dir):
    cfg = tiny_cfg(os.path.dirname(sysu_dir))
    cfg.INPUT.CHANNEL_AUG.ENABLED = True  # every random step of the pipeline is exercised
    cfg.INPUT.REA.ENABLED = True
    plain = _epochs(build_cm_train_loader(cfg), (0, 1))
    cfg.DATALOADER.CACHE_IMAGES = True
    cfg.DATALOADER.NUM_WORKERS = 2
    loader = build_cm_train_loader(cfg)
    cache = loader.dataset.image_cache
    assert cache.array.shape == (len(loader.dataset), 16, 8, 3) and cache.array.dtype == np.uint8
    cached = _epochs(loader, (0, 1))
    for a, b in zip(plain, cached):
        assert _same(a, b)


def test_image_cache_needs_resize_first_and_memory(sysu_dir, monkeypatch):
    cfg = tiny_cfg(os.path.dirname(sysu_dir))
    cfg.DATALOADER.CACHE_IMAGES = True
    cfg.INPUT.AUTOAUG.ENABLED = True
    with pytest.raises(ValueError, match="CACHE_IMAGES caches resized images.*starts with RandomApply"):
        build_cm_train_loader(cfg)
    cfg.INPUT.AUTOAUG.ENABLED = False
    monkeypatch.setattr(image_cache, "available_memory", lambda: 1000)
    with pytest.raises(MemoryError, match=r"images at 16x8 need .* GiB.*set DATALOADER.CACHE_IMAGES False"):
        build_cm_train_loader(cfg)


def test_auto_workers_follow_the_cpus(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)))
    assert resolve_num_workers(-1) == 15
    monkeypatch.setattr(comm, "get_local_size", lambda: 2)
    assert resolve_num_workers(-1) == 7
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert resolve_num_workers(-1) == 1
    assert resolve_num_workers(0) == 0 and resolve_num_workers(3) == 3


def test_test_loader_keeps_item_order(sysu_dir):
    cfg = tiny_cfg(os.path.dirname(sysu_dir))
    data = build_cm_dataset(cfg, "SYSUMM01")
    loader = build_cm_test_loader(cfg, data.query + data.gallery)
    batches = list(loader)
    # 7 infrared query images; gallery of ids 5, 6, 8 in cameras 1, 2, 4, 5: 4 + 2 + 2 images
    assert (len(data.query), len(data.gallery)) == (7, 8)
    assert [len(b["img_paths"]) for b in batches] == [4, 4, 4, 3]
    assert [p for b in batches for p in b["img_paths"]] == [item[0] for item in data.query + data.gallery]
    assert [c for b in batches for c in b["camids"].tolist()] == [item[2] for item in data.query + data.gallery]
    assert [m for b in batches for m in b["modalities"].tolist()] == [1] * len(data.query) + [0] * len(data.gallery)
    assert batches[0]["images"].shape == (4, 3, 16, 8)


def test_combined_datasets_are_relabelled_together(sysu_dir, trees):
    root = os.path.dirname(sysu_dir)
    trees.build_regdb(root, {1: ((7, 9), (4,))})
    loader = build_cm_train_loader(tiny_cfg(root, names=("SYSUMM01", "RegDB")))
    assert loader.dataset.pids == ["RegDB_7", "RegDB_9", "SYSUMM01_1", "SYSUMM01_2", "SYSUMM01_3"]


def test_identities_with_and_without_attributes_are_an_error():
    items = [("a.jpg", "X_1", 1, 0, np.zeros(2, np.float32)), ("b.jpg", "Y_4", 1, 1, None)]
    with pytest.raises(ValueError, match=r"these have none: \['Y_4'\]"):
        CMDataset(items)
