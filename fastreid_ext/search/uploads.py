"""The image of an upload request: the body (by Content-Length or chunked), raw or the one file of a
multipart form, and the checks before and while decoding it (pixel limit from the header, decodability)."""
import email.message
import email.parser
import io
import re
from http import HTTPStatus
from typing import BinaryIO, Optional

from PIL import Image

_DIGITS = re.compile(r"[0-9]+")
_HEX = re.compile(rb"[0-9A-Fa-f]+")
_HOW = ("send the image as the request body (curl --data-binary @query.jpg) or as a form file "
        "(curl -F image=@query.jpg)")


class RequestError(Exception):
    """A request the server refuses; ``status`` is its HTTP status."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def _bad(message):
    return RequestError(HTTPStatus.BAD_REQUEST, message)


def read_body(headers: email.message.Message, rfile: BinaryIO, limit: int) -> bytes:
    """The request body of at most ``limit`` bytes, from its ``Content-Length`` or its chunks.

    Refuses (:class:`RequestError`) a missing length (411), a negative, non-numeric or conflicting one (400),
    one over ``limit`` (413), a body that ends early (400) or a client that stops sending (408).
    """
    try:
        if "Transfer-Encoding" in headers:
            return _read_chunked(headers, rfile, limit)
        lengths = {value.strip() for value in headers.get_all("Content-Length", [])}
        if not lengths:
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, f"The upload has no Content-Length: {_HOW}")
        if len(lengths) > 1:
            raise _bad(f"Conflicting Content-Length headers: {sorted(lengths)}")
        value = lengths.pop()
        if not _DIGITS.fullmatch(value):
            raise _bad(f"Content-Length must be a number of bytes, got {value!r}")
        length = int(value)
        if length > limit:
            raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                               f"The upload has {length} bytes; the limit is {limit}")
        data = rfile.read(length)
    except TimeoutError:
        raise RequestError(HTTPStatus.REQUEST_TIMEOUT, "The upload stopped arriving") from None
    if len(data) < length:
        raise _bad(f"The upload ended after {len(data)} of its {length} bytes")
    return data


def _read_chunked(headers, rfile, limit):
    encoding = headers["Transfer-Encoding"].strip().lower()
    if encoding != "chunked" or "Content-Length" in headers:
        raise RequestError(HTTPStatus.LENGTH_REQUIRED,
                           f"Transfer-Encoding {encoding!r} (with a Content-Length: "
                           f"{'Content-Length' in headers}) is not accepted: {_HOW}")
    data = bytearray()
    while True:
        size = rfile.readline(1024).split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size):
            raise _bad(f"Malformed chunk size {size[:20]!r} in the chunked upload")
        size = int(size, 16)
        if size == 0:
            break
        if len(data) + size > limit:
            raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                               f"The chunked upload exceeds the limit of {limit} bytes")
        chunk = rfile.read(size)
        if len(chunk) < size or rfile.read(2) != b"\r\n":
            raise _bad("The chunked upload ended early or lacks a chunk's CRLF")
        data += chunk
    for _ in range(64):  # the trailer, up to its blank line
        if rfile.readline(8192).strip() == b"":
            return bytes(data)
    raise _bad("The chunked upload's trailer does not end")


def upload_file(body: bytes, content_type: Optional[str], name: Optional[str] = None) -> tuple[bytes, Optional[str]]:
    """``(image bytes, name)`` of an upload: ``body`` itself, or the one file of a ``multipart/form-data``
    body (``name`` defaults to its file name)."""
    header = email.message.Message()
    header["Content-Type"] = content_type or "application/octet-stream"
    if header.get_content_type() != "multipart/form-data":
        return body, name
    boundary = header.get_param("boundary")
    if not boundary:
        raise _bad("The multipart/form-data upload has no boundary parameter")
    files, closed = [], False
    for part in (b"\r\n" + body).split(b"\r\n--" + str(boundary).encode("latin-1"))[1:]:
        if part.startswith(b"--"):
            closed = True
            break
        head, blank, content = part.partition(b"\r\n\r\n")
        if not blank:
            raise _bad("A part of the multipart upload has no blank line after its headers")
        fields = email.parser.BytesHeaderParser().parsebytes(head.lstrip(b" \t\r\n") + b"\r\n\r\n")
        filename = fields.get_filename()
        if filename is not None:
            files.append((content, filename))
    if not closed:
        raise _bad("The multipart upload is incomplete (no closing boundary)")
    if len(files) != 1:
        raise _bad(f"The multipart upload holds {len(files)} files: send one image (curl -F image=@query.jpg)")
    content, filename = files[0]
    return content, name or filename


def check_pixels(data: bytes, name: str, max_pixels: int) -> None:
    """Refuse (413) an image whose header gives more than ``max_pixels`` pixels, before anything decodes it.
    Data that is not an image passes: the later checks say why it cannot be read."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Image.DecompressionBombError as e:
        raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                           f"{name!r} is over the pixel limit: {e}") from None
    except Exception:  # PIL raises many types for what is not an image header
        return
    if width * height > max_pixels:
        raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                           f"{name!r} is {width}x{height} = {width * height / 1e6:.1f} MP; the limit is "
                           f"{max_pixels / 1e6:g} MP (--max-pixels)")


def check_decodes(path: str, name: str) -> None:
    """Decode the image file ``path`` (uploaded as ``name``); 400 if its data are broken."""
    try:
        with Image.open(path) as image:
            image.load()
    except Exception as e:  # PIL raises OSError, SyntaxError, ValueError, zlib errors, ...
        raise _bad(f"{name!r} cannot be decoded: {type(e).__name__}: {e}") from None
