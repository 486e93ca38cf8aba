"""The Pillow upload pipeline (services.images) and the /media/<sha256> route.

Hostile files: bombs, truncated JPEGs, SVG, PHP text
renamed .png, animations, GPS EXIF, PNG/HTML polyglots, oversized files.
"""
from __future__ import annotations

import hashlib
import io
import random
import struct
import zlib

import pytest
from PIL import ExifTags
from PIL import Image as PILImage
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Image
from marketplace.services.images import store_image
from marketplace.validation import ValidationError


def _png(size=(64, 48), mode="RGB", color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    PILImage.new(mode, size, color).save(buf, format="PNG")
    return buf.getvalue()


def _noise(size=(256, 256), mode="RGB") -> PILImage.Image:
    rnd = random.Random(42)
    raw = bytes(rnd.getrandbits(8) for _ in range(size[0] * size[1] * len(mode)))
    return PILImage.frombytes(mode, size, raw)


def _jpeg(im: PILImage.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=90, **kw)
    return buf.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR claims huge dimensions (a decompression bomb's calling card)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Image))


def _refused(data: bytes, needle: str) -> str:
    with pytest.raises(ValidationError) as info:
        store_image(data)
    message = str(info.value)
    assert needle in message
    assert _count() == 0
    return message


# ---- refused inputs -------------------------------------------------------------------------

def test_20000x20000_png_bomb_refused_before_decoding(app):
    data = _png_header_claiming(20000, 20000)
    assert len(data) < 200
    _refused(data, "像素")


def test_our_own_pixel_cap_applies_below_pillows_limit(app):
    # 8000 x 6000 = 48 MP: under Pillow's default bomb limit, over our 40 MP cap. The IDAT is
    # junk, so had it been decoded the message would be "已损坏" instead of the pixel cap.
    _refused(_png_header_claiming(8000, 6000), "百万像素")


def test_pixel_cap_is_configurable(app):
    app.config["MAX_IMAGE_PIXELS"] = 1000
    _refused(_png((100, 100)), "像素")


def test_truncated_jpeg_refused(app):
    data = _jpeg(_noise())
    _refused(data[: len(data) // 2], "损坏")


def test_svg_refused(app):
    svg = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
           b'<script>alert(1)</script></svg>')
    _refused(svg, "SVG")


def test_php_file_renamed_png_refused(app):
    _refused(b"<?php system($_GET['cmd']); ?>\n", "PNG、JPEG 或 WebP")


@pytest.mark.parametrize("fmt", ["TIFF", "GIF", "BMP", "ICO", "PPM"])
def test_other_formats_refused(app, fmt):
    buf = io.BytesIO()
    PILImage.new("RGB", (16, 16), "blue").save(buf, format=fmt)
    _refused(buf.getvalue(), "PNG、JPEG 或 WebP")


def test_eps_and_psd_signatures_refused(app):
    _refused(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "PNG、JPEG 或 WebP")
    _refused(b"8BPS\x00\x01" + b"\x00" * 200, "PNG、JPEG 或 WebP")


def test_animated_webp_refused(app):
    frames = [PILImage.new("RGB", (32, 32), c) for c in ("red", "green", "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, format="WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0)
    _refused(buf.getvalue(), "动图")


def test_animated_png_refused(app):
    frames = [PILImage.new("RGB", (32, 32), c) for c in ("red", "green")]
    buf = io.BytesIO()
    frames[0].save(buf, format="PNG", save_all=True, append_images=frames[1:], duration=100)
    _refused(buf.getvalue(), "动图")


def test_animated_gif_refused(app):
    frames = [PILImage.new("P", (32, 32), i) for i in (1, 2)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    _refused(buf.getvalue(), "PNG、JPEG 或 WebP")


def test_six_megabyte_file_refused(app):
    data = _png() + b"\x00" * (6 * 1024 * 1024)
    _refused(data, "5 MB")


def test_empty_upload_refused(app):
    _refused(b"", "请选择")


# ---- accepted inputs ------------------------------------------------------------------------

def test_gps_exif_is_stripped(app):
    exif = PILImage.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (23.0, 7.0, 30.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (113.0, 15.0, 10.0),
    }
    data = _jpeg(_noise((64, 64)), exif=exif)
    with PILImage.open(io.BytesIO(data)) as check:  # the upload really carries GPS data
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    row = store_image(data)
    assert b"Exif" not in row.data and b"SecretCam" not in row.data
    with PILImage.open(io.BytesIO(row.data)) as stored:
        assert not stored.getexif()
        assert not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert "exif" not in stored.info and "icc_profile" not in stored.info


def test_exif_orientation_applied(app):
    exif = PILImage.Exif()
    exif[ExifTags.Base.Orientation] = 6  # rotate 90 degrees clockwise when shown
    row = store_image(_jpeg(PILImage.new("RGB", (100, 50), "green"), exif=exif))
    assert (row.width, row.height) == (50, 100)


def test_png_html_polyglot_stored_only_as_reencoded_image(app, client):
    payload = b"<html><script>alert(document.cookie)</script></html>"
    polyglot = _png((40, 40)) + payload  # trailing HTML after IEND
    im = PILImage.new("RGB", (40, 40), "white")
    buf = io.BytesIO()
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", payload.decode())
    im.save(buf, format="PNG", pnginfo=info)
    for data in (polyglot, buf.getvalue()):
        row = store_image(data)
        assert b"<script" not in row.data and b"<html" not in row.data
        db.session.commit()
        resp = client.get(f"/media/{row.sha256}")
        assert resp.status_code == 200
        assert resp.mimetype.startswith("image/")
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert b"<script" not in resp.data


def test_cmyk_jpeg_accepted_as_rgb(app):
    row = store_image(_jpeg(PILImage.new("CMYK", (120, 80), (0, 255, 255, 0))))
    assert row.mime == "image/jpeg"
    with PILImage.open(io.BytesIO(row.data)) as stored:
        assert stored.mode == "RGB"
        r, g, b = stored.getpixel((60, 40))
        assert r > 200 and g < 60 and b < 60  # C=0 M=255 Y=255 K=0 is red


def test_rgba_png_keeps_transparency_and_is_fitted(app):
    im = PILImage.new("RGBA", (1024, 600), (10, 200, 10, 0))
    im.paste((255, 0, 0, 255), (0, 0, 512, 600))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    row = store_image(buf.getvalue())
    assert row.mime == "image/png"
    assert (row.width, row.height) == (512, 300)
    with PILImage.open(io.BytesIO(row.data)) as stored:
        assert stored.mode == "RGBA"
        assert stored.getpixel((400, 100))[3] == 0
        assert stored.getpixel((10, 10)) == (255, 0, 0, 255)


def test_webp_and_palette_and_grey_images_accepted(app):
    buf = io.BytesIO()
    PILImage.new("RGB", (30, 30), "orange").save(buf, format="WEBP")
    assert store_image(buf.getvalue()).mime == "image/jpeg"
    buf = io.BytesIO()
    PILImage.new("LA", (30, 30), (90, 128)).save(buf, format="PNG")
    assert store_image(buf.getvalue()).mime == "image/png"
    buf = io.BytesIO()
    PILImage.new("RGB", (30, 30), "red").convert("P").save(buf, format="PNG")
    assert store_image(buf.getvalue()).mime == "image/jpeg"
    buf = io.BytesIO()
    PILImage.new("I;16", (30, 30), 40000).save(buf, format="PNG")
    assert store_image(buf.getvalue()).mime == "image/jpeg"


def test_same_image_stored_once_and_key_is_hash_of_stored_bytes(app):
    data = _png((20, 20))
    first = store_image(data)
    db.session.commit()
    second = store_image(data)
    assert first.sha256 == second.sha256 == hashlib.sha256(first.data).hexdigest()
    assert _count() == 1


# ---- the /media route -----------------------------------------------------------------------

def test_media_route_serves_with_immutable_caching(app, client):
    row = store_image(_png((50, 50)))
    db.session.commit()
    resp = client.get(f"/media/{row.sha256}")
    assert resp.status_code == 200
    assert resp.data == row.data
    assert resp.headers["Content-Type"] == row.mime == "image/jpeg"  # opaque images become JPEG
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["ETag"].strip('"') == row.sha256
    again = client.get(f"/media/{row.sha256}", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304 and not again.data


@pytest.mark.parametrize("path", [
    "/media/" + "0" * 64,
    "/media/" + "A" * 64,
    "/media/abc",
    "/media/" + "g" * 64,
    "/media/..%2f..%2fetc%2fpasswd",
    "/media/" + "a" * 65,
])
def test_media_route_unknown_or_invalid_hash_is_404(client, path):
    assert client.get(path).status_code == 404
