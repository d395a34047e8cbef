"""SYSU-MM01 (Wu et al., ICCV 2017): cameras 1, 2, 4, 5 visible, 3 and 6 near-infrared.

Layout, splits, gallery samplers and setting names: docs/datasets.md.
"""
import os
import re
from collections.abc import Iterable, Sequence

import numpy as np
from fastreid.config import CfgNode, configurable
from fastreid.data.datasets import DATASET_REGISTRY

from .attributes import load_attributes
from .bases import (INFRARED, VISIBLE, CrossModalityDataset, Item, common_options, list_images, read_id_list,
                    require_disjoint, require_nonempty, seeded_gallery)

CAMERA_MODALITY = {1: VISIBLE, 2: VISIBLE, 3: INFRARED, 4: VISIBLE, 5: VISIBLE, 6: INFRARED}
QUERY_CAMERAS = (3, 6)
GALLERY_CAMERAS = {"all": (1, 2, 4, 5), "indoor": (1, 2)}
SHOTS = (1, 10)
SAMPLERS = ("seeded", "official")
NUM_TRIALS = 10
_SETTING = re.compile(r"^(all|indoor)-(\d+)shot-(seeded|official)$")


def setting_name(mode: str, shots: int, sampler: str) -> str:
    return f"{mode}-{shots}shot-{sampler}"


def parse_setting(setting: str) -> tuple[str, int, str]:
    """``"all-1shot-seeded"`` -> ``("all", 1, "seeded")``."""
    match = _SETTING.match(setting)
    if match is None or int(match.group(2)) not in SHOTS:
        raise ValueError(f"unknown SYSU-MM01 setting {setting!r}: expected '<mode>-<shots>shot-<sampler>' "
                         f"with mode in {tuple(GALLERY_CAMERAS)}, shots in {SHOTS}, sampler in {SAMPLERS}")
    return match.group(1), int(match.group(2)), match.group(3)


def official_gallery(rand_perm_cam: np.ndarray, dataset_dir: str, test_ids: Iterable[int], cameras: Sequence[int],
                     shots: int, trial: int, source: str) -> list[tuple[str, int, int]]:
    """The official draw from the ``rand_perm_cam`` cell (see the module docstring).

    Returns:
        list of ``(path, pid, camera)``.
    """
    per_camera = np.asarray(rand_perm_cam, dtype=object).reshape(-1)
    drawn = []
    for pid in sorted(test_ids):
        for cam in cameras:
            per_id = np.asarray(per_camera[cam - 1], dtype=object).reshape(-1)
            if pid > len(per_id):
                raise ValueError(f"{source}: rand_perm_cam{{{cam}}} has {len(per_id)} entries, none for "
                                 f"person id {pid}")
            perm = np.asarray(per_id[pid - 1])
            if perm.size == 0:
                continue
            if perm.ndim != 2 or perm.shape[0] <= trial:
                raise ValueError(f"{source}: rand_perm_cam{{{cam}}}{{{pid}}} has shape {perm.shape}, "
                                 f"no row for trial {trial}")
            for number in perm[trial, :shots]:
                path = os.path.join(dataset_dir, f"cam{cam}", f"{pid:04d}", f"{int(number):04d}.jpg")
                if not os.path.isfile(path):
                    raise FileNotFoundError(f"{source}: trial {trial} of camera {cam}, identity {pid} "
                                            f"names image {int(number)}, but {path} is not found")
                drawn.append((path, pid, cam))
    return drawn


@DATASET_REGISTRY.register()
class SYSUMM01(CrossModalityDataset):
    """SYSU-MM01 with the split of ``(mode, shots, trial, sampler)`` as ``query``/``gallery``."""
    dataset_dir = "SYSU-MM01"
    dataset_name = "SYSUMM01"
    cameras = tuple(CAMERA_MODALITY)

    @configurable
    def __init__(self, root: str = "datasets", mode: str = "all", shots: int = 1, trial: int = 0,
                 sampler: str = "seeded", attributes: str = "attributes.csv", check_images: bool = True,
                 skip_bad_images: bool = False, **kwargs):
        self.root = root
        self.dataset_dir = os.path.join(root, self.dataset_dir)
        exp_dir = os.path.join(self.dataset_dir, "exp")
        self.check_before_run([self.dataset_dir] + [self._cam_dir(cam) for cam in CAMERA_MODALITY])
        setting = setting_name(mode, shots, sampler)
        parse_setting(setting)

        train_ids = sorted(set(read_id_list(os.path.join(exp_dir, "train_id.txt"))
                               + read_id_list(os.path.join(exp_dir, "val_id.txt"))))
        self.test_ids = sorted(set(read_id_list(os.path.join(exp_dir, "test_id.txt"))))
        require_disjoint(train_ids, self.test_ids, exp_dir)
        self._rand_perm_path = os.path.join(exp_dir, "rand_perm_cam.mat")
        self._rand_perm_cam = None

        images = {}
        for cam in CAMERA_MODALITY:
            for pid in train_ids + self.test_ids:
                folder = os.path.join(self._cam_dir(cam), f"{pid:04d}")
                if os.path.isdir(folder):
                    images[cam, pid] = list_images(folder)
        bad = self.screen_images([p for files in images.values() for p in files], check_images, skip_bad_images)
        self._images = {key: [p for p in files if p not in bad] for key, files in images.items()}
        self._check_identities(train_ids)

        self._set_attributes(load_attributes(attributes, self.dataset_dir, train_ids + self.test_ids,
                                             self.cameras, key="DATASETS.SYSU.ATTRIBUTES"))

        train = [self._item(path, pid, cam, CAMERA_MODALITY[cam], train=True)
                 for pid in train_ids for cam in CAMERA_MODALITY for path in self._images.get((cam, pid), [])]
        query, gallery = self.test_split(setting, trial)
        super().__init__(require_nonempty(train, "train", exp_dir), query, gallery, **kwargs)

    @classmethod
    def from_config(cls, cfg: CfgNode) -> dict:
        node = cfg.DATASETS.SYSU
        return {**common_options(cfg, node), "mode": node.MODE, "shots": node.SHOTS, "trial": node.TRIAL,
                "sampler": node.SAMPLER}

    def _cam_dir(self, cam):
        return os.path.join(self.dataset_dir, f"cam{cam}")

    def _check_identities(self, train_ids):
        for pid in train_ids:
            if not any(self._images.get((cam, pid)) for cam in CAMERA_MODALITY):
                raise ValueError(f"{self.dataset_dir}: training identity {pid} has no image in cam1..cam6")
        for pid in self.test_ids:
            if not any(self._images.get((cam, pid)) for cam in QUERY_CAMERAS):
                raise ValueError(f"{self.dataset_dir}: test identity {pid} has no infrared image "
                                 f"(cam3/{pid:04d}, cam6/{pid:04d})")

    def default_settings(self) -> list[str]:
        samplers = SAMPLERS if os.path.isfile(self._rand_perm_path) else ("seeded",)
        return [setting_name(mode, 1, sampler) for sampler in samplers for mode in GALLERY_CAMERAS]

    def num_trials(self, setting: str) -> int:
        parse_setting(setting)
        return NUM_TRIALS

    def test_split(self, setting: str, trial: int) -> tuple[list[Item], list[Item]]:
        """``(query_items, gallery_items)`` of ``setting`` and ``trial`` in ``range(10)``."""
        mode, shots, sampler = parse_setting(setting)
        if not 0 <= trial < NUM_TRIALS:
            raise ValueError(f"SYSU-MM01 trial {trial} out of range(0, {NUM_TRIALS})")
        query = [self._item(path, pid, cam, INFRARED)
                 for pid in self.test_ids for cam in QUERY_CAMERAS for path in self._images.get((cam, pid), [])]
        cameras = GALLERY_CAMERAS[mode]
        if sampler == "seeded":
            drawn = seeded_gallery(self._images, self.test_ids, cameras, shots, trial)
        else:
            bad = {p for p, _ in self.bad_images}
            drawn = [d for d in official_gallery(self._load_rand_perm_cam(), self.dataset_dir, self.test_ids,
                                                 cameras, shots, trial, self._rand_perm_path) if d[0] not in bad]
        gallery = [self._item(path, pid, cam, VISIBLE) for path, pid, cam in drawn]
        source = f"{self.dataset_dir} ({setting}, trial {trial})"
        return require_nonempty(query, "query", source), require_nonempty(gallery, "gallery", source)

    def _load_rand_perm_cam(self):
        if self._rand_perm_cam is None:
            from scipy.io import loadmat

            if not os.path.isfile(self._rand_perm_path):
                raise FileNotFoundError(f"the official sampler needs {self._rand_perm_path}, which is not found")
            mat = loadmat(self._rand_perm_path)
            if "rand_perm_cam" not in mat:
                raise ValueError(f"{self._rand_perm_path}: no variable 'rand_perm_cam'")
            self._rand_perm_cam = mat["rand_perm_cam"]
        return self._rand_perm_cam
