"""The image pipeline for logos and complaint evidence (Pillow).

Uploads are hostile until proven otherwise. ``store_image`` accepts only PNG, JPEG and WebP,
refuses decompression bombs *before* decoding (our own pixel cap plus Pillow's bomb warning turned
into an error), refuses animations, decodes fully (a truncated JPEG passes ``verify()`` but fails
``load()``), applies the EXIF orientation, then re-encodes the pixels into a brand-new image so
no metadata (EXIF, GPS, ICC, text chunks, trailing polyglot payloads) survives. Only the
re-encoded bytes are stored, keyed by their SHA-256, in the database so every server can serve
them; the original upload and the client's filename are never kept.
"""
from __future__ import annotations

import hashlib
import io
import warnings

from flask import current_app
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Image
from ..validation import ValidationError

ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP")
MAX_SIDE = 512
JPEG_QUALITY = 85
MIME = {"PNG": "image/png", "JPEG": "image/jpeg"}

MSG_EMPTY = "请选择要上传的图片文件。"
MSG_FORMAT = "无法识别的图片文件：只接受 PNG、JPEG 或 WebP 格式的图片。"
MSG_SVG = "不支持 SVG 矢量图：请上传 PNG、JPEG 或 WebP 格式的图片。"
MSG_ANIMATED = "不支持动图：请上传静态的 PNG、JPEG 或 WebP 图片。"
MSG_BROKEN = "图片文件已损坏或不完整，无法读取，请重新导出后再上传。"


def _size_message(max_bytes: int) -> str:
    return f"图片文件不能超过 {max_bytes / (1024 * 1024):g} MB。"


def _pixels_message(max_pixels: int) -> str:
    return f"图片尺寸过大（超过 {max_pixels / 1_000_000:g} 百万像素），请缩小后再上传。"


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<?xml") or head.startswith(b"<svg") or b"<svg" in head


def _decode(data: bytes, max_pixels: int) -> PILImage.Image:
    """Open ``data`` with the allowed formats only, check size limits, and decode it fully."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        try:
            im = PILImage.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS))
        except (PILImage.DecompressionBombWarning, PILImage.DecompressionBombError):
            raise ValidationError(_pixels_message(max_pixels)) from None
        except UnidentifiedImageError:
            raise ValidationError(MSG_SVG if _looks_like_svg(data) else MSG_FORMAT) from None
        except (OSError, ValueError, SyntaxError, EOFError):
            raise ValidationError(MSG_BROKEN) from None
        # Header-only checks first: nothing has been decoded yet.
        width, height = im.size
        if width < 1 or height < 1:
            raise ValidationError(MSG_BROKEN)
        if width * height > max_pixels:
            raise ValidationError(_pixels_message(max_pixels))
        if getattr(im, "is_animated", False) or getattr(im, "n_frames", 1) > 1:
            raise ValidationError(MSG_ANIMATED)
        try:
            im.load()
        except (PILImage.DecompressionBombWarning, PILImage.DecompressionBombError):
            raise ValidationError(_pixels_message(max_pixels)) from None
        except (OSError, ValueError, SyntaxError, EOFError, MemoryError):
            raise ValidationError(MSG_BROKEN) from None
    return im


def _normalise(im: PILImage.Image, max_side: int = MAX_SIDE) -> PILImage.Image:
    """Orientation applied, RGB or RGBA, at most ``max_side`` a side, as a fresh image without metadata."""
    try:
        im = ImageOps.exif_transpose(im)
    except (OSError, ValueError, SyntaxError, KeyError, TypeError):
        pass  # a garbled EXIF block only loses its orientation; the pixels are still fine
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode == "P" and "transparency" in im.info
    )
    try:
        if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
            im = im.convert("I").point(lambda v: v / 256).convert("L")
        im = im.convert("RGBA" if has_alpha else "RGB")
    except (OSError, ValueError) as exc:
        raise ValidationError(MSG_BROKEN) from exc
    if has_alpha and im.getchannel("A").getextrema() == (255, 255):
        im = im.convert("RGB")  # fully opaque: store as a (smaller) JPEG
    im.thumbnail((max_side, max_side), PILImage.Resampling.LANCZOS)
    # Copy the pixels into a brand-new image: its ``info`` is empty, so no EXIF, ICC profile,
    # text chunk or anything else from the upload can reach the encoder.
    clean = PILImage.frombytes(im.mode, im.size, im.tobytes())
    return clean


def encode(im: PILImage.Image) -> tuple[bytes, str]:
    """Re-encode a normalised image: PNG when it has transparency, else JPEG quality 85."""
    buf = io.BytesIO()
    if im.mode == "RGBA":
        im.save(buf, format="PNG", optimize=True)
        return buf.getvalue(), MIME["PNG"]
    im.save(buf, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return buf.getvalue(), MIME["JPEG"]


def process_image(data: bytes, max_side: int = MAX_SIDE) -> tuple[bytes, str, int, int]:
    """Validate and re-encode an upload; return ``(bytes, mime, width, height)``.

    ``max_side`` bounds the stored size: 512 for logos and evidence, more for wide pictures such
    as a 网购节 banner, which would be blurred at 512 pixels across, and for documents that must
    stay legible (an authorization letter).

    Raises ``ValidationError`` with a Chinese message for anything that is not a safe, static
    PNG / JPEG / WebP image within the configured byte and pixel limits.
    """
    cfg = current_app.config
    max_bytes = int(cfg["MAX_IMAGE_BYTES"])
    max_pixels = int(cfg["MAX_IMAGE_PIXELS"])
    if not data:
        raise ValidationError(MSG_EMPTY)
    if len(data) > max_bytes:
        raise ValidationError(_size_message(max_bytes))
    im = _decode(data, max_pixels)
    try:
        clean = _normalise(im, max_side)
    finally:
        im.close()
    out, mime = encode(clean)
    return out, mime, clean.width, clean.height


def store_image(data: bytes, max_side: int = MAX_SIDE) -> Image:
    """Validate, re-encode and store an uploaded image; return its ``Image`` row.

    The key is the SHA-256 of the re-encoded bytes, so the same picture uploaded twice is stored
    once (the existing row is returned). Flushes, never commits. Two concurrent uploads of the
    same picture are safe: the loser of the insert race gets the winner's row.
    """
    out, mime, width, height = process_image(data, max_side)
    sha = hashlib.sha256(out).hexdigest()
    existing = db.session.get(Image, sha)
    if existing is not None:
        return existing
    row = Image(sha256=sha, mime=mime, width=width, height=height, data=out)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        existing = db.session.get(Image, sha, populate_existing=True)
        if existing is None:
            raise
        return existing
    return row


def store_images(uploads: list[bytes]) -> list[Image]:
    """``store_image`` for many images at once (one lookup, one flush): used by bulk jobs.

    Returns the rows in the order of ``uploads``; raises ``ValidationError`` on the first bad one
    before anything is added.
    """
    processed = [process_image(data) for data in uploads]
    keys = [hashlib.sha256(out).hexdigest() for out, *_ in processed]
    rows: dict[str, Image] = {}
    for start in range(0, len(keys), 500):
        chunk = sorted(set(keys[start:start + 500]))
        rows.update({r.sha256: r for r in db.session.scalars(select(Image).where(Image.sha256.in_(chunk)))})
    new: list[Image] = []
    for sha, (out, mime, width, height) in zip(keys, processed):
        if sha not in rows:
            rows[sha] = Image(sha256=sha, mime=mime, width=width, height=height, data=out)
            new.append(rows[sha])
    try:
        with db.session.begin_nested():
            db.session.add_all(new)
    except IntegrityError:  # someone stored one of them meanwhile: fall back to one at a time
        return [store_image(data) for data in uploads]
    return [rows[sha] for sha in keys]


def image_bytes_from_pil(im: PILImage.Image) -> bytes:
    """PNG bytes of an in-memory Pillow image (for generated images such as demo logos)."""
    buf = io.BytesIO()
    im.save(buf, format="PNG", compress_level=1)  # re-encoded by store_image anyway
    return buf.getvalue()
