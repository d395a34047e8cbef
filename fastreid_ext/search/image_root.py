"""Gallery image paths stored relative to one root folder, so that an index reads the same from any working
directory and follows its images to another place (``--image-root``)."""
import os
from collections.abc import Iterable

from ..retrieval.index import GalleryIndex


def common_root(paths: Iterable[str]) -> str:
    """The deepest folder holding every file of ``paths`` (relative ones are read from the working
    directory)."""
    return os.path.commonpath([os.path.dirname(os.path.abspath(path)) for path in paths])


def relative_to(paths: Iterable[str], root: str) -> list[str]:
    """``paths`` relative to ``root`` (an absolute folder holding them, e.g. :func:`common_root`)."""
    return [os.path.relpath(os.path.abspath(path), root) for path in paths]


def resolve_image_paths(index: GalleryIndex, root: str, column: str = "img_path") -> None:
    """Make the stored paths of the metadata ``column`` of the gallery ``index`` absolute under ``root``
    (checked to be a folder)."""
    if not os.path.isdir(root):
        raise FileNotFoundError(f"The gallery image root {root} is not a folder: give the folder that now "
                                "holds the indexed images (--image-root)")
    root = os.path.abspath(root)
    index.map_metadata(column, lambda path: os.path.join(root, path))
