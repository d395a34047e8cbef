"""The one image loader of the package, and the fast completeness check run when a dataset is built."""
import os
import struct
from typing import Optional

from fastreid.data.data_utils import read_image as _fastreid_read_image
from PIL import Image

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")

# A complete JPEG ends with the EOI marker; some writers pad the file with zero bytes after it.
_JPEG_EOI = b"\xff\xd9"
_JPEG_TAIL_BYTES = 1024


def read_image(path: str) -> Image.Image:
    """Read ``path`` as a 3-channel RGB PIL image; infrared (single-channel) images are replicated."""
    return _fastreid_read_image(path, "RGB")


def is_image_file(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def check_image(path: str, decode: bool = False) -> Optional[str]:
    """Return ``None`` if ``path`` looks like a complete image, else the reason it does not.

    Fast: PIL parses the header (and ``verify()`` checks PNG checksums) without decoding pixels;
    a JPEG must end with its EOI marker and an uncompressed BMP must hold all its pixel rows.
    ``decode`` then also decodes the pixels (slow; finds damage inside the compressed data).
    """
    try:
        size = os.path.getsize(path)
    except OSError:
        return "missing"
    if size == 0:
        return "empty file"
    try:
        with Image.open(path) as image:
            image_format = image.format
            image.verify()
    except Exception as e:  # PIL raises many types for bad headers
        return f"unreadable ({type(e).__name__}: {e})"
    reason = None
    if image_format == "JPEG":
        reason = _check_jpeg_tail(path, size)
    elif image_format == "BMP":
        reason = _check_bmp_size(path, size)
    if reason is None and decode:
        reason = _decode(path)
    return reason


def _decode(path):
    try:
        with Image.open(path) as image:
            image.load()
    except Exception as e:  # PIL's decoders raise OSError, SyntaxError, ValueError, ...
        return f"undecodable ({type(e).__name__}: {e})"
    return None


def _check_jpeg_tail(path, size):
    with open(path, "rb") as f:
        f.seek(max(0, size - _JPEG_TAIL_BYTES))
        tail = f.read().rstrip(b"\x00")
    if not tail.endswith(_JPEG_EOI):
        return "truncated JPEG (no end-of-image marker)"
    return None


def _check_bmp_size(path, size):
    with open(path, "rb") as f:
        header = f.read(34)
    if len(header) < 34 or struct.unpack_from("<I", header, 14)[0] < 40:
        return None  # old OS/2 header: PIL's header parse is all we check
    offset = struct.unpack_from("<I", header, 10)[0]
    width, height = struct.unpack_from("<ii", header, 18)
    bits, compression = struct.unpack_from("<HI", header, 28)
    if compression != 0:
        return None
    row_bytes = (bits * width + 31) // 32 * 4
    expected = offset + row_bytes * abs(height)
    if size < expected:
        return f"truncated BMP ({size} bytes, header needs {expected})"
    return None
