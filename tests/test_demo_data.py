"""The shipped demo data set: generated deterministically, loaded through the import path."""
from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from marketplace import demo_data
from marketplace.extensions import db
from marketplace.models import City, Enterprise, Image, Industry, Shop, Status
from marketplace.services.demo import DEMO_DIR, initials, load_demo_data, make_logo
from marketplace.services.images import process_image
from marketplace.validation.uscc import is_valid_uscc


def _csv(name: str) -> list[dict]:
    with open(DEMO_DIR / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_committed_csv_matches_the_generator(tmp_path):
    e, s = demo_data.write(tmp_path)
    assert e.read_bytes() == (DEMO_DIR / "enterprises.csv").read_bytes()
    assert s.read_bytes() == (DEMO_DIR / "shops.csv").read_bytes()


def test_demo_csv_is_plausible_and_clearly_fictional():
    ents, shops = _csv("enterprises.csv"), _csv("shops.csv")
    assert len(ents) >= 300
    assert all(is_valid_uscc(r["uscc"]) for r in ents)
    assert all("虚构" in r["description"] for r in ents)
    assert all(r["website"].endswith(".example/") for r in ents)
    brands = [b for r in ents for b in r["brands"].split(";")]
    assert len(brands) == len(set(brands))
    for real in ("美的", "格力", "TCL", "华为", "格兰仕", "海天"):
        assert real not in brands
    per_ent: dict[str, int] = {}
    for shop in shops:
        per_ent[shop["uscc"]] = per_ent.get(shop["uscc"], 0) + 1
    assert set(per_ent) == {r["uscc"] for r in ents}
    assert set(per_ent.values()) <= {1, 2, 3, 4} and max(per_ent.values()) == 4
    certified = sum(r["certified"] == "是" for r in ents)
    assert 0.7 * len(ents) < certified < len(ents)  # mostly certified, some drafts
    assert 0 < sum(bool(r["badges"]) for r in ents) < len(ents) / 3


def test_demo_data_loads_covering_every_city_and_industry(app, client):
    summary = load_demo_data()
    db.session.commit()
    assert summary["created"]["enterprise"] >= 300
    assert summary["logos"] == summary["created"]["enterprise"]
    total = db.session.scalar(select(func.count()).select_from(Enterprise))
    assert total >= 300
    cities = db.session.scalar(select(func.count(func.distinct(Enterprise.city_id)))
                               .where(Enterprise.status == Status.CERTIFIED))
    assert cities == db.session.scalar(select(func.count()).select_from(City)) == 21
    covered = {i.name for e in db.session.scalars(select(Enterprise).where(Enterprise.status == Status.CERTIFIED))
               for i in e.industries}
    assert covered == set(db.session.scalars(select(Industry.name))) and len(covered) == 15
    assert db.session.scalar(select(func.count()).select_from(Enterprise).where(Enterprise.logo_sha256.is_(None))) == 0
    assert db.session.scalar(select(func.count()).select_from(Enterprise)
                             .where(Enterprise.status == Status.DRAFT, Enterprise.owner_id.is_(None))) > 0
    drafts_public = db.session.scalar(select(func.count()).select_from(Shop).join(Shop.enterprise)
                                      .where(Enterprise.status == Status.DRAFT, Shop.status == Status.CERTIFIED))
    assert drafts_public == 0
    ent = db.session.scalar(select(Enterprise).where(Enterprise.status == Status.CERTIFIED).limit(1))
    assert ent.certificate is not None and ent.shops
    image = db.session.get(Image, ent.logo_sha256)
    resp = client.get(f"/media/{ent.logo_sha256}")
    assert resp.status_code == 200 and resp.data == image.data
    assert resp.mimetype in ("image/png", "image/jpeg")
    products = summary["products"]
    assert products["products"] >= 200 and products["skipped"] == 0
    public = client.get("/api/v1/products?per_page=1").get_json()
    assert public["total"] == products["products"] - products["pending"]
    assert "虚构" in public["results"][0]["description"] and public["results"][0]["photos"]
    again = load_demo_data()  # idempotent
    assert again["created"] == {"enterprise": 0, "shop": 0} and again["updated"] == {"enterprise": 0, "shop": 0}
    assert again["logos"] == 0 and again["products"]["products"] == 0


def test_generated_logo(app):
    assert initials("岭南风") == "LNF"
    assert initials("Acme") == "A"
    out, mime, width, height = process_image(make_logo("岭南风"))
    assert (width, height) == (256, 256)
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(out)) as im:
        colours = im.convert("RGB").getcolors(maxcolors=100_000)
    assert len(colours) > 10  # the letters are drawn, not a flat square
