"""Load the shipped demo data (marketplace/data/demo) through the normal CSV import path.

Used by ``python app.py`` on first start (see ``marketplace.bootstrap``) and by
``flask --app app load-demo``. The demo news articles (``data/demo/news.toml``) come with it, the
demo's live and ended 网购节 from ``events.demo``, the brand authorizations
(``services.demo_authorizations``), the 公示 entries (``services.demo_gongshi``) and two applications waiting
for review with their evidence (``services.demo_applications``).
Every enterprise also gets a generated logo: a coloured rounded
square with its brand's pinyin initials, drawn with Pillow's built-in font (no CJK font needed)
and stored through the same ``store_image`` pipeline as uploaded logos.
"""
from __future__ import annotations

import csv
import hashlib
import io
import time
from pathlib import Path

from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont
from pypinyin import Style, lazy_pinyin
from sqlalchemy import select

from ..extensions import db
from ..models import Enterprise
from . import ServiceError
from .demo_applications import load_demo_applications
from .demo_authorizations import load_demo_authorizations
from .demo_gongshi import load_demo_gongshi
from .events.demo import load_demo_events
from .images import image_bytes_from_pil, store_images
from .importer.writer import run_import
from .news_seed import load_demo_news
from .products.demo import load_demo_products

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
LOGO_SIZE = 256
PALETTE = [
    (192, 57, 43), (211, 84, 0), (39, 174, 96), (22, 160, 133), (41, 128, 185), (142, 68, 173),
    (44, 62, 80), (176, 58, 46), (31, 97, 141), (17, 122, 101), (183, 149, 11), (120, 66, 18),
]
_FONTS: dict[int, ImageFont.ImageFont] = {}
# The generated directory, plus two fictional distributors for the brand authorization demo.
ENTERPRISE_FILES = ("enterprises.csv", "distributors.csv")
SHOP_FILES = ("shops.csv", "distributor_shops.csv")


def initials(brand: str) -> str:
    """Upper-case pinyin initials of a brand (``岭南风`` -> ``LNF``), at most three letters."""
    letters = "".join(p[:1] for p in lazy_pinyin(brand, style=Style.NORMAL) if p[:1].isalnum())
    return (letters or brand[:1]).upper()[:3]


def _font(size: int):
    if size not in _FONTS:
        _FONTS[size] = ImageFont.load_default(size=size)
    return _FONTS[size]


def make_logo(brand: str) -> bytes:
    """PNG bytes of a generated logo for ``brand`` (deterministic colour from the name)."""
    colour = PALETTE[int(hashlib.sha256(brand.encode()).hexdigest(), 16) % len(PALETTE)]
    im = PILImage.new("RGB", (LOGO_SIZE, LOGO_SIZE), (255, 255, 255))
    draw = ImageDraw.Draw(im)
    draw.rounded_rectangle((8, 8, LOGO_SIZE - 8, LOGO_SIZE - 8), radius=48, fill=colour)
    text = initials(brand)
    font = _font({1: 150, 2: 120, 3: 88}[len(text)])
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = (LOGO_SIZE - (right - left)) / 2 - left
    y = (LOGO_SIZE - (bottom - top)) / 2 - top
    draw.text((x, y), text, font=font, fill=(255, 255, 255))
    return image_bytes_from_pil(im)


def _joined(directory: Path, names: tuple[str, ...]) -> bytes:
    """CSV files of one format as one file (the header once)."""
    parts = [(directory / name).read_bytes() for name in names]
    return parts[0] + b"".join(part.split(b"\n", 1)[1] for part in parts[1:])


def load_demo_data(directory: Path | None = None) -> dict:
    """Import the demo enterprises and shops and give each enterprise a generated logo.

    Goes through ``run_import`` exactly like a staff upload, so the demo also proves the import
    path. Idempotent; flushes, never commits. Returns a summary dict.
    """
    started = time.perf_counter()
    directory = directory or DEMO_DIR
    report = run_import(_joined(directory, ENTERPRISE_FILES), _joined(directory, SHOP_FILES),
                        dry_run=False, filenames=("demo/enterprises.csv", "demo/shops.csv"))
    if not report.ok:
        raise ServiceError("演示数据导入失败：" + "；".join(str(e) for e in report.errors[:5]))
    usccs = [row["uscc"] for row in csv.DictReader(io.StringIO(_joined(directory, ENTERPRISE_FILES).decode()))]
    missing = [ent for ent in db.session.scalars(select(Enterprise).where(Enterprise.uscc.in_(usccs),
                                                                        Enterprise.logo_sha256.is_(None)))
               if ent.brands]
    with db.session.no_autoflush:
        images = store_images([make_logo(ent.brands[0].name) for ent in missing])
    for ent, image in zip(missing, images):
        ent.logo_sha256 = image.sha256
    logos = len(missing)
    db.session.flush()
    news = load_demo_news()["news"]
    authorizations = load_demo_authorizations(directory)
    events = load_demo_events()
    gongshi = load_demo_gongshi(make_logo)
    applications = load_demo_applications()
    products = load_demo_products()
    return {
        "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
        "certificates": report.certificates, "logos": logos, "news": news, "events": events,
        "authorizations": authorizations, "gongshi": gongshi, "applications": applications, "products": products,
        "seconds": round(time.perf_counter() - started, 2),
    }


def register_cli(app) -> None:
    """Add ``flask load-demo``."""
    import click

    @app.cli.command("load-demo")
    def load_demo_command():
        """Load (or refresh) the shipped demo enterprises, shops and logos."""
        summary = load_demo_data()
        db.session.commit()
        click.echo(f"演示数据已加载：{summary}")
