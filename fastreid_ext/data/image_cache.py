"""``ImageCache``: every training image decoded and resized once, in one shared uint8 array."""
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional

import numpy as np
from PIL import Image

from .data_utils import read_image

logger = logging.getLogger(__name__)


def available_memory() -> Optional[int]:
    """Bytes of memory the system can still give (``MemAvailable`` of /proc/meminfo), None where unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class ImageCache:
    """Images ``paths[i]`` as ``resize(read_image(path))``, held in one ``(N, H, W, 3)`` uint8 array.

    The array is filled in the main process before the loader's workers start; forked workers
    (Linux's default) share its pages without copying, so the memory is ``N * H * W * 3`` bytes
    whatever ``DATALOADER.NUM_WORKERS`` is (about 4.2 GB for SYSU-MM01's 34k training images at
    288x144). With the ``spawn`` start method every worker receives its own copy.

    Args:
        paths: image files, in dataset order.
        size: (H, W) that ``resize`` produces.
        resize: PIL image -> PIL image of ``size`` (the training pipeline's first step).
        threads: decoding threads.
        max_fraction: fail when the array would take more than this share of the available memory.
    """

    def __init__(self, paths: Sequence[str], size: Sequence[int], resize: Callable, threads: int = 1,
                 max_fraction: float = 0.8):
        height, width = size
        need = len(paths) * height * width * 3
        free = available_memory()
        if free is not None and need > max_fraction * free:
            raise MemoryError(f"DATALOADER.CACHE_IMAGES: {len(paths)} images at {height}x{width} need "
                              f"{need / 2 ** 30:.1f} GiB, more than {max_fraction:.0%} of the "
                              f"{free / 2 ** 30:.1f} GiB available; set DATALOADER.CACHE_IMAGES False")
        logger.info("Caching %d decoded training images at %dx%d: %.2f GiB", len(paths), height, width,
                    need / 2 ** 30)
        self.array = np.empty((len(paths), height, width, 3), dtype=np.uint8)

        def load(i):
            image = np.asarray(resize(read_image(paths[i])))
            if image.shape != self.array.shape[1:]:
                raise ValueError(f"{paths[i]}: resized to {image.shape}, expected {self.array.shape[1:]}")
            self.array[i] = image

        with ThreadPoolExecutor(max(1, threads)) as pool:
            list(pool.map(load, range(len(paths))))

    def __len__(self):
        return len(self.array)

    def __getitem__(self, i: int) -> Image.Image:
        return Image.fromarray(self.array[i])

