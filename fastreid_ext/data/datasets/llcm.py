"""LLCM (Zhang & Wang, CVPR 2023): low-light visible cameras 1..9 and near-infrared cameras 1, 2, 4..9.

Layout and the authors' query/gallery protocol: docs/datasets.md.
"""
import logging
import os
import re

from fastreid.config import CfgNode, configurable
from fastreid.data.datasets import DATASET_REGISTRY

from .attributes import load_attributes
from .bases import (INFRARED, VISIBLE, CrossModalityDataset, Item, MODALITY_NAMES, common_options, list_images,
                    read_id_list, read_path_label_list, require_disjoint, require_nonempty, seeded_gallery)

logger = logging.getLogger(__name__)

# modality -> (test folder, cameras in the authors' order)
TEST_CAMERAS = {VISIBLE: ("test_vis", (1, 2, 3, 4, 5, 6, 7, 8, 9)),
                INFRARED: ("test_nir", (1, 2, 4, 5, 6, 7, 8, 9))}
TRAIN_LISTS = {VISIBLE: "train_vis.txt", INFRARED: "train_nir.txt"}
DIRECTIONS = {"v2t": (VISIBLE, INFRARED), "t2v": (INFRARED, VISIBLE)}  # (query, gallery)
NUM_TRIALS = 10
_PATH = re.compile(r"cam(\d+)/(\d+)/[^/]+$")


@DATASET_REGISTRY.register()
class LLCM(CrossModalityDataset):
    """LLCM with the gallery draw ``trial`` (0..9) of ``direction`` as ``query``/``gallery``."""
    dataset_dir = "LLCM"
    dataset_name = "LLCM"
    cameras = TEST_CAMERAS[VISIBLE][1]

    @configurable
    def __init__(self, root: str = "datasets", trial: int = 0, direction: str = "v2t",
                 attributes: str = "attributes.csv", check_images: bool = True, skip_bad_images: bool = False,
                 **kwargs):
        self.root = root
        self.dataset_dir = os.path.join(root, self.dataset_dir)
        idx_dir = os.path.join(self.dataset_dir, "idx")
        lists = {m: os.path.join(idx_dir, name) for m, name in TRAIN_LISTS.items()}
        self.check_before_run([self.dataset_dir, *lists.values(), os.path.join(idx_dir, "test_id.txt")]
                              + [os.path.join(self.dataset_dir, folder) for folder, _ in TEST_CAMERAS.values()])
        absent = [self._cam_dir(m, cam) for m, (_, cams) in TEST_CAMERAS.items() for cam in cams
                  if not os.path.isdir(self._cam_dir(m, cam))]
        if absent:
            # The protocol skips absent folders (the authors' code tests os.path.isdir); say which.
            logger.warning("LLCM: no camera folder %s; the test split has no image of it", ", ".join(absent))

        train_entries = [e for m, path in lists.items() for e in self._read_list(path, m)]
        self.test_ids = sorted(set(read_id_list(os.path.join(idx_dir, "test_id.txt"))))
        train_ids = sorted({e[1] for e in train_entries})
        require_disjoint(train_ids, self.test_ids, idx_dir)
        images = {}
        for m, (_, cams) in TEST_CAMERAS.items():
            for pid in self.test_ids:
                for cam in cams:
                    folder = os.path.join(self._cam_dir(m, cam), f"{pid:04d}")
                    if os.path.isdir(folder):
                        images[m, cam, pid] = list_images(folder)
        bad = self.screen_images([e[0] for e in train_entries] + [p for fs in images.values() for p in fs],
                                 check_images, skip_bad_images)
        train_entries = [e for e in train_entries if e[0] not in bad]
        self._images = {key: [p for p in files if p not in bad] for key, files in images.items()}
        for pid in self.test_ids:
            for m, (folder, cams) in TEST_CAMERAS.items():
                if not any(self._images.get((m, cam, pid)) for cam in cams):
                    raise ValueError(f"{self.dataset_dir}: test identity {pid} has no {MODALITY_NAMES[m]} "
                                     f"image in {folder}/cam*/{pid:04d}")

        self._set_attributes(load_attributes(attributes, self.dataset_dir, train_ids + self.test_ids,
                                             self.cameras, key="DATASETS.LLCM.ATTRIBUTES"))
        train = [self._item(*e, train=True) for e in train_entries]
        query, gallery = self.test_split(direction, trial)
        super().__init__(require_nonempty(train, "train", idx_dir), query, gallery, **kwargs)

    @classmethod
    def from_config(cls, cfg: CfgNode) -> dict:
        node = cfg.DATASETS.LLCM
        return {**common_options(cfg, node), "trial": node.TRIAL, "direction": node.DIRECTION}

    def _cam_dir(self, modality, cam):
        return os.path.join(self.dataset_dir, TEST_CAMERAS[modality][0], f"cam{cam}")

    def _read_list(self, path, modality):
        """``[(abs path, pid, camid, modality)]`` of a training list; errors name the file and line."""
        entries = []
        for line_no, relative in read_path_label_list(path):
            match = _PATH.search(relative)
            if match is None:
                raise ValueError(f"{path}:{line_no}: path {relative!r} is not .../cam<N>/<person id>/<file>")
            entries.append((os.path.join(self.dataset_dir, relative), int(match.group(2)), int(match.group(1)),
                            modality))
        return require_nonempty(entries, "train", path)

    @staticmethod
    def _check_direction(direction):
        if direction not in DIRECTIONS:
            raise ValueError(f"unknown LLCM direction {direction!r}: expected one of {tuple(DIRECTIONS)}")

    def default_settings(self) -> list[str]:
        return list(DIRECTIONS)

    def num_trials(self, setting: str) -> int:
        self._check_direction(setting)
        return NUM_TRIALS

    def test_split(self, setting: str, trial: int) -> tuple[list[Item], list[Item]]:
        """``(query_items, gallery_items)`` of direction ``setting`` and gallery draw ``trial`` in ``range(10)``."""
        self._check_direction(setting)
        if not 0 <= trial < NUM_TRIALS:
            raise ValueError(f"LLCM trial {trial} out of range(0, {NUM_TRIALS})")
        query_modality, gallery_modality = DIRECTIONS[setting]
        query = [self._item(path, pid, cam, query_modality) for pid in self.test_ids
                 for cam in TEST_CAMERAS[query_modality][1]
                 for path in self._images.get((query_modality, cam, pid), [])]
        images = {(cam, pid): files for (m, cam, pid), files in self._images.items() if m == gallery_modality}
        drawn = seeded_gallery(images, self.test_ids, TEST_CAMERAS[gallery_modality][1], 1, trial)
        gallery = [self._item(path, pid, cam, gallery_modality) for path, pid, cam in drawn]
        source = f"{self.dataset_dir} ({setting}, trial {trial})"
        return require_nonempty(query, "query", source), require_nonempty(gallery, "gallery", source)
