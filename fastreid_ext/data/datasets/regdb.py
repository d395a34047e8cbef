"""RegDB (Nguyen et al., Sensors 2017): one visible and one thermal camera, ten random train/test splits.

Layout, identities, cameras and settings: docs/datasets.md.
"""
import logging
import os
import re
from typing import Optional

from fastreid.config import CfgNode, configurable
from fastreid.data.datasets import DATASET_REGISTRY

from .attributes import load_attributes
from .bases import (INFRARED, VISIBLE, CrossModalityDataset, Item, common_options, read_path_label_list,
                    require_disjoint, require_nonempty)

logger = logging.getLogger(__name__)

# list-file word -> (image folder, camera id, modality)
MODALITIES = {"visible": ("Visible", 1, VISIBLE), "thermal": ("Thermal", 2, INFRARED)}
DIRECTIONS = {"v2t": ("visible", "thermal"), "t2v": ("thermal", "visible")}  # (query, gallery)
TRIALS = range(1, 11)


def check_trial(trained_trial: Optional[int], eval_trial: int, force: bool = False) -> None:
    """Refuse to evaluate a model trained on RegDB split ``trained_trial`` on split ``eval_trial``.

    The test identities of one split are training identities of the others, so a mismatch leaks
    training images into the test. ``trained_trial`` None (the model was not trained on RegDB)
    passes; ``force`` (``DATASETS.REGDB.FORCE_TRIAL_MISMATCH``) turns the error into a warning.
    """
    if trained_trial is None or int(trained_trial) == int(eval_trial):
        return
    message = (f"the checkpoint was trained on RegDB trial {trained_trial} but is evaluated on trial "
               f"{eval_trial}: its training identities are in this test set")
    if not force:
        raise ValueError(message + "; set DATASETS.REGDB.TRIAL to the trained trial, or "
                                   "DATASETS.REGDB.FORCE_TRIAL_MISMATCH True to evaluate anyway")
    logger.warning("%s (forced by DATASETS.REGDB.FORCE_TRIAL_MISMATCH)", message)


@DATASET_REGISTRY.register()
class RegDB(CrossModalityDataset):
    """RegDB split ``trial`` (1..10); ``query``/``gallery`` follow ``direction``."""
    dataset_dir = "RegDB"
    dataset_name = "RegDB"
    cameras = tuple(cam for _, cam, _ in MODALITIES.values())

    @configurable
    def __init__(self, root: str = "datasets", trial: int = 1, direction: str = "v2t",
                 attributes: str = "attributes.csv", check_images: bool = True, skip_bad_images: bool = False,
                 **kwargs):
        if trial not in TRIALS:
            raise ValueError(f"RegDB trial {trial} out of 1..10 (DATASETS.REGDB.TRIAL)")
        self._check_direction(direction)
        self.root = root
        self.dataset_dir = os.path.join(root, self.dataset_dir)
        self.trial = trial
        lists = {(split, modality): os.path.join(self.dataset_dir, "idx", f"{split}_{modality}_{trial}.txt")
                 for split in ("train", "test") for modality in MODALITIES}
        self.check_before_run([self.dataset_dir, *lists.values()])

        entries = {key: self._read_list(path, key[1]) for key, path in lists.items()}
        bad = self.screen_images([e[0] for es in entries.values() for e in es], check_images, skip_bad_images)
        entries = {key: [e for e in es if e[0] not in bad] for key, es in entries.items()}
        train_ids = sorted({e[1] for m in MODALITIES for e in entries["train", m]})
        test_ids = {m: sorted({e[1] for e in entries["test", m]}) for m in MODALITIES}
        require_disjoint(train_ids, test_ids["visible"] + test_ids["thermal"], os.path.join(self.dataset_dir, "idx"))
        missing = sorted(set(test_ids["visible"]) - set(test_ids["thermal"]))
        if missing:
            raise ValueError(f"{lists['test', 'thermal']}: test identities {missing[:10]} have no thermal image")

        known = train_ids + test_ids["visible"] + test_ids["thermal"]
        self._set_attributes(load_attributes(attributes, self.dataset_dir, known, self.cameras,
                                             key="DATASETS.REGDB.ATTRIBUTES"))

        self._test = {m: require_nonempty([self._item(*e) for e in entries["test", m]], f"test {m}",
                                          lists["test", m]) for m in MODALITIES}
        train = [self._item(*e, train=True) for m in MODALITIES for e in entries["train", m]]
        query, gallery = self.test_split(direction, 0)
        super().__init__(require_nonempty(train, "train", lists["train", "visible"]), query, gallery, **kwargs)

    @classmethod
    def from_config(cls, cfg: CfgNode) -> dict:
        node = cfg.DATASETS.REGDB
        return {**common_options(cfg, node), "trial": node.TRIAL, "direction": node.DIRECTION}

    def _read_list(self, path, modality):
        """``[(abs path, pid, camid, modality)]`` of a list file; errors name the file and line."""
        folder, camid, code = MODALITIES[modality]
        pattern = re.compile(rf"^{folder}/(\d+)/[^/]+$")
        entries = []
        for line_no, relative in read_path_label_list(path):
            match = pattern.match(relative)
            if match is None:
                raise ValueError(f"{path}:{line_no}: path {relative!r} is not {folder}/<person id>/<file>")
            entries.append((os.path.join(self.dataset_dir, relative), int(match.group(1)), camid, code))
        return entries

    @staticmethod
    def _check_direction(direction):
        if direction not in DIRECTIONS:
            raise ValueError(f"unknown RegDB direction {direction!r}: expected one of {tuple(DIRECTIONS)}")

    def default_settings(self) -> list[str]:
        return list(DIRECTIONS)

    def num_trials(self, setting: str) -> int:
        self._check_direction(setting)
        return 1

    def test_split(self, setting: str, trial: int) -> tuple[list[Item], list[Item]]:
        """``(query_items, gallery_items)`` of direction ``setting``; ``trial`` must be 0, the split
        ``self.trial`` the dataset was built with."""
        self._check_direction(setting)
        if trial != 0:
            raise ValueError(f"RegDB has one trial per setting (index 0 = split {self.trial} the dataset "
                             f"was built with), got trial index {trial}")
        query, gallery = DIRECTIONS[setting]
        return self._test[query], self._test[gallery]
