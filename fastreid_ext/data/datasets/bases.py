"""What every cross-modality dataset shares: the :class:`Item`, modality codes, the evaluation contract
and input checks."""
import logging
import os
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple, Optional, Union

import numpy as np

from fastreid.config import CfgNode
from fastreid.data.datasets.bases import ImageDataset

from ...utils import DatasetError
from ..data_utils import check_image, is_image_file

logger = logging.getLogger(__name__)

VISIBLE, INFRARED = 0, 1
MODALITY_NAMES = {VISIBLE: "visible", INFRARED: "infrared"}


class Item(NamedTuple):
    """One image of ``train``/``query``/``gallery``; a tuple, as FastReID's datasets expect.

    ``pid`` is ``"<NAME>_<id>"`` in ``train`` (so FastReID's relabelling can combine datasets) and the
    integer person id in ``query``/``gallery``; ``camid`` is the camera number of the file name;
    ``attributes`` is (A,) float32 or None.
    """
    img_path: str
    pid: Union[int, str]
    camid: int
    modality: int
    attributes: Optional[np.ndarray]


def person_id(pid: Union[int, str]) -> int:
    """The integer person id of an item's ``pid`` (``"<NAME>_<id>"`` in ``train``, an int elsewhere)."""
    return int(pid.rsplit("_", 1)[-1]) if isinstance(pid, str) else int(pid)


def dataset_root(cfg: CfgNode) -> str:
    """``DATASETS.ROOT``, or env ``FASTREID_DATASETS``, or ``datasets`` (FastReID's rule)."""
    return cfg.DATASETS.ROOT or os.getenv("FASTREID_DATASETS", "datasets")


def common_options(cfg: CfgNode, node: CfgNode) -> dict:
    """Constructor arguments every dataset reads from ``cfg`` (``node``: e.g. ``cfg.DATASETS.SYSU``)."""
    return {
        "root": dataset_root(cfg),
        "attributes": node.ATTRIBUTES,
        "check_images": cfg.DATASETS.CHECK_IMAGES,
        "skip_bad_images": cfg.DATASETS.SKIP_BAD_IMAGES,
    }


def read_id_list(path: str) -> list[int]:
    """Person ids of a split file holding one comma-separated line (SYSU ``exp/*_id.txt``, LLCM ``idx/test_id.txt``)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"split file {path} is not found")
    with open(path) as f:
        lines = [line.strip() for line in f if line.strip()]
    if not lines:
        raise ValueError(f"{path}: empty split (no person ids)")
    if len(lines) > 1:
        raise ValueError(f"{path}: expected one comma-separated line of ids, got {len(lines)} lines")
    ids = []
    for token in lines[0].split(","):
        try:
            ids.append(int(token))
        except ValueError:
            raise ValueError(f"{path}:1: person id {token.strip()!r} is not an integer") from None
    return ids


def read_path_label_list(path: str) -> Iterator[tuple[int, str]]:
    """``(line number, relative path)`` of each entry of a ``<relative path> <label>`` list (RegDB
    ``idx/*.txt``, LLCM ``idx/train_*.txt``); blank lines are skipped, malformed ones name file and line.
    The label column is not used: identities come from the path."""
    with open(path) as f:
        for line_no, line in enumerate(f, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2:
                raise ValueError(f"{path}:{line_no}: expected '<relative path> <label>', got {line.strip()!r}")
            yield line_no, fields[0]


def list_images(directory: str) -> list[str]:
    """Image files of ``directory`` sorted by name (the order public protocol code draws from)."""
    return [os.path.join(directory, name) for name in sorted(os.listdir(directory)) if is_image_file(name)]


def require_nonempty(items: list, split: str, source: str) -> list:
    if not items:
        raise ValueError(f"{source}: the {split} split is empty")
    return items


def require_disjoint(train_ids: Iterable[int], test_ids: Iterable[int], source: str) -> None:
    shared = sorted(set(train_ids) & set(test_ids))
    if shared:
        raise ValueError(f"{source}: identities {shared[:10]} are in both the training and the test split")


def seeded_gallery(images: Mapping[tuple[int, int], Sequence[str]], test_ids: Iterable[int], cameras: Sequence[int],
                   shots: int, trial: int) -> list[tuple[str, int, int]]:
    """The gallery draw of the public SYSU-MM01/LLCM evaluation code once seeded with ``random.seed(trial)``.

    Test ids ascending, then ``cameras`` in order; for each existing folder one ``random.choice``
    (``shots == 1``) or ``random.sample(files, min(shots, len(files)))``, all from one RNG stream.

    Args:
        images: ``(camera, pid) -> image paths sorted by name``, for the folders that exist.
    Returns:
        list of ``(path, pid, camera)`` in draw order.
    """
    rng = random.Random(trial)  # the same stream as random.seed(trial), without touching the global one
    drawn = []
    for pid in sorted(test_ids):
        for cam in cameras:
            files = images.get((cam, pid))
            if not files:
                continue
            picks = [rng.choice(files)] if shots == 1 else rng.sample(files, min(shots, len(files)))
            drawn.extend((path, pid, cam) for path in picks)
    return drawn


class CrossModalityDataset(ImageDataset):
    """Base of the cross-modality datasets.

    Subclasses build their items, call :meth:`screen_images` on every file they list and
    :meth:`_set_attributes` before building items, and implement the evaluation contract:

    - ``default_settings() -> list[str]``: the settings a full evaluation reports;
    - ``num_trials(setting) -> int``;
    - ``test_split(setting, trial) -> (query_items, gallery_items)`` for ``trial`` in
      ``range(num_trials(setting))``.

    ``query``/``gallery`` are the split of the constructor's options.
    """
    dataset_name = ""
    cameras = ()  # the camera numbers of the dataset
    attribute_names = None
    _attribute_table = None

    @property
    def name(self) -> str:
        return self.dataset_name

    def check_before_run(self, required_files: Union[str, Iterable[str]]) -> None:
        """FastReID's check, as a :class:`~fastreid_ext.utils.DatasetError` that says which config key to fix."""
        for path in [required_files] if isinstance(required_files, str) else required_files:
            if os.path.exists(path):
                continue
            if os.path.abspath(path) == os.path.abspath(self.dataset_dir):
                raise DatasetError(f'"{path}" is not found: set DATASETS.ROOT (now {self.root!r}) to the folder '
                                   f"that holds {os.path.basename(path)}/")
            raise DatasetError(f'"{path}" is not found: {self.name} needs it (see the layout in the README)')

    def default_settings(self) -> list[str]:
        raise NotImplementedError

    def num_trials(self, setting: str) -> int:
        raise NotImplementedError

    def test_split(self, setting: str, trial: int) -> tuple[list[Item], list[Item]]:
        raise NotImplementedError

    def screen_images(self, paths: Sequence[str], check: bool, skip: bool) -> set[str]:
        """Check ``paths`` once; return the set of bad ones to leave out, or raise listing them.

        Sets ``self.image_files`` (``paths``) and ``self.bad_images``: list of ``(path, reason)``.
        """
        self.image_files = list(paths)
        self.bad_images = []
        if check:
            self.bad_images = [(p, r) for p in paths for r in (check_image(p),) if r is not None]
        if not self.bad_images:
            return set()
        listing = "\n".join(f"  {p}: {r}" for p, r in self.bad_images[:20])
        more = f"\n  ... and {len(self.bad_images) - 20} more" if len(self.bad_images) > 20 else ""
        if not skip:
            raise ValueError(f"{self.dataset_name}: {len(self.bad_images)} unreadable or truncated image(s):\n"
                             f"{listing}{more}\nSet DATASETS.SKIP_BAD_IMAGES True to leave them out "
                             f"(or DATASETS.CHECK_IMAGES False to skip the check)")
        logger.warning("%s: left out %d unreadable or truncated image(s):\n%s%s", self.dataset_name,
                       len(self.bad_images), listing, more)
        return {p for p, _ in self.bad_images}

    def _set_attributes(self, table):
        """Keep the :class:`~.attributes.AttributeTable` (or None); build items with :meth:`_item` after."""
        self.attribute_names = table.names if table is not None else None
        self._attribute_table = table

    def _item(self, path, pid, camid, modality, train=False):
        """One :class:`Item`, carrying the attributes of identity ``pid`` (an int) as seen in camera ``camid``;
        ``pid`` is prefixed for training items."""
        attributes = None
        if self._attribute_table is not None:
            attributes = self._attribute_table.vector(camid, pid, path)
        if train:
            pid = f"{self.dataset_name}_{pid}"
        return Item(path, pid, camid, modality, attributes)
