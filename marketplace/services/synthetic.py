"""Large synthetic data sets for benchmarks and load tests (10,000 enterprises / 50,000 shops).

Deterministic for a given seed, in the import format (``enterprises.csv`` / ``shops.csv``), so
the benchmark data goes through the same ``run_import`` path as real data. Every row is valid:
USCCs carry a correct check character and the city's area code, shop URLs use the platforms'
real hosts with a unique path, own-site shops live under the enterprise's website domain.
Names are invented and every description says the row is synthetic (虚构测试数据).

Importable without Flask: ``generate_rows(10_000, 50_000)`` returns two lists of dicts.
"""
from __future__ import annotations

import csv
import random
import time
from pathlib import Path

from ..data import platform_host, rows
from ..validation.uscc import check_character

CITIES = [(r["name"], r["code"]) for r in rows("cities.csv")]  # the 21 prefecture-level cities
NAME_WORDS = {  # industry (data/industries.csv) -> words used in enterprise names
    "电子产品": ("电子科技", "智能科技", "数码科技"),
    "家电": ("电器", "家用电器", "厨卫电器"),
    "陶瓷": ("陶瓷", "瓷业", "建陶"),
    "服装": ("服饰", "制衣", "时装"),
    "家具": ("家具", "家居", "木业"),
    "灯饰": ("灯饰", "照明", "光电"),
    "皮具": ("皮具", "皮革", "箱包"),
    "食品饮料": ("食品", "饮料", "调味品"),
    "日化用品": ("日化", "化妆品", "生物科技"),
    "玩具": ("玩具", "动漫玩具", "益智玩具"),
    "珠宝首饰": ("珠宝", "首饰", "金饰"),
    "五金建材": ("五金", "建材", "卫浴"),
    "纺织": ("纺织", "织造", "家纺"),
    "农产品": ("农业", "果蔬", "茶业"),
    "大宗商品": ("贸易", "物产", "供应链"),
}
# Characters for invented trade names (字号); combinations are not meant to match real firms.
NAME_CHARS = ("嘉宏澜锦弘瑞晟朗铭泓骏睿煜宸茗翊岚誉昊瀚璟珀琨悦澄骁"
              "靖熠檀楷琪颢昕舜桦霖棠铠潼湛熙逸曜钧翔卓沐芮郁鸿")
BADGES = ("国家电子商务示范企业", "省电子商务示范企业", "中华老字号", "广东老字号", "万家名优企业")
SHOP_TYPES = ("旗舰店", "专卖店", "专营店")
PLATFORMS = ("tmall", "jd", "pinduoduo", "taobao", "douyin", "kuaishou", "alibaba1688", "vip",
             "suning", "dewu", "alibaba", "aliexpress", "own-site")
PLATFORM_WEIGHTS = (22, 18, 14, 10, 9, 5, 6, 3, 3, 2, 3, 2, 3)

ENTERPRISE_HEADER = ["uscc", "name", "brands", "city", "industries", "description", "website",
                     "founded", "badges", "certified"]
SHOP_HEADER = ["uscc", "platform", "name", "url", "shop_type"]


def make_uscc(area: str, serial: int, kind: str = "91") -> str:
    """A valid 统一社会信用代码 for ``area`` (6 digits) and a 9-digit serial."""
    body = f"{kind}{area}{serial:09d}"
    return body + check_character(body)


def shop_url(platform: str, n: int, domain: str) -> str:
    """A URL on the platform's real host that is unique for ``n``."""
    host = platform_host
    return {
        "tmall": f"https://gd{n}.{host('tmall')}/",
        "jd": f"https://mall.{host('jd')}/index-{1000000 + n}.html",
        "pinduoduo": f"https://mobile.{host('pinduoduo', 1)}/mall_page.html?mall_id={5000000 + n}",
        "taobao": f"https://shop{100000000 + n}.{host('taobao')}/",
        "douyin": f"https://haohuo.{host('douyin')}/views/shop/index?id=gd{n}",
        "kuaishou": f"https://app.{host('kuaishou')}/merchant/shop/detail?id={2000000 + n}",
        "alibaba1688": f"https://gd{n}.{host('alibaba1688')}/",
        "vip": f"https://list.{host('vip')}/brand-{n}.html",
        "suning": f"https://shop.{host('suning')}/{70000000 + n}/index.html",
        "dewu": f"https://www.{host('dewu')}/brand/{n}",
        "alibaba": f"https://gd{n}.en.{host('alibaba')}/",
        "aliexpress": f"https://www.{host('aliexpress')}/store/{9000000 + n}",
        "own-site": f"https://shop.{domain}/s/{n}",
    }[platform]


PLATFORM_NAMES = {
    "tmall": "天猫", "jd": "京东", "pinduoduo": "拼多多", "taobao": "淘宝", "douyin": "抖音",
    "kuaishou": "快手", "alibaba1688": "1688", "vip": "唯品会", "suning": "苏宁", "dewu": "得物",
    "alibaba": "国际站", "aliexpress": "速卖通", "own-site": "官方商城",
}


def generate_rows(enterprises: int = 10_000, shops: int = 50_000, *, seed: int = 20130101,
                  certified_share: float = 0.9) -> tuple[list[dict], list[dict]]:
    """Return ``(enterprise_rows, shop_rows)`` as dicts keyed by the CSV column names.

    Shops are spread evenly (``shops // enterprises`` each, the remainder to the first ones), so
    the totals are exact. The same arguments always give the same rows.
    """
    rnd = random.Random(seed)
    industries = [r["name"] for r in rows("industries.csv")]
    ent_rows: list[dict] = []
    shop_rows: list[dict] = []
    base, extra = divmod(shops, enterprises) if enterprises else (0, 0)
    shop_n = 0
    for i in range(enterprises):
        city, code = CITIES[i % len(CITIES)]
        area = code[:4] + f"{rnd.randint(2, 9):02d}"
        uscc = make_uscc(area, 100000 + i)
        inds = [industries[(i // len(CITIES)) % len(industries)]]
        if rnd.random() < 0.25:
            inds.append(rnd.choice(industries))
        trade = rnd.choice(NAME_CHARS) + rnd.choice(NAME_CHARS)
        word = rnd.choice(NAME_WORDS[inds[0]])
        name = f"{city}市{trade}{word}有限公司（测试{i + 1}）"
        brand = trade + rnd.choice(NAME_CHARS)
        brands = [brand] + ([trade + rnd.choice("坊记牌源")] if rnd.random() < 0.2 else [])
        domain = f"gd-test-{i + 1}.example"
        badges = [rnd.choice(BADGES)] if rnd.random() < 0.1 else []
        ent_rows.append({
            "uscc": uscc, "name": name, "brands": ";".join(dict.fromkeys(brands)), "city": city,
            "industries": ";".join(dict.fromkeys(inds)),
            "description": f"{city}{inds[0]}企业，主营{word}产品，线上线下同步销售。本条为虚构测试数据。",
            "website": f"https://www.{domain}/", "founded": str(rnd.randint(1950, 2022)),
            "badges": ";".join(badges), "certified": "是" if rnd.random() < certified_share else "否",
        })
        for _ in range(base + (1 if i < extra else 0)):
            shop_n += 1
            slug = rnd.choices(PLATFORMS, PLATFORM_WEIGHTS)[0]
            stype = "官方商城" if slug == "own-site" else rnd.choice(SHOP_TYPES)
            shop_rows.append({
                "uscc": uscc, "platform": slug, "name": f"{brand}{PLATFORM_NAMES[slug]}{stype}{shop_n}",
                "url": shop_url(slug, shop_n, domain), "shop_type": stype,
            })
    return ent_rows, shop_rows


def write_csv(path: Path, header: list[str], rows: list[dict]) -> None:
    """Write rows as UTF-8 CSV (no BOM) with ``header``."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def write_synthetic(out_dir: str | Path, enterprises: int, shops: int, seed: int = 20130101) -> tuple[Path, Path]:
    """Generate a set and write ``enterprises.csv`` and ``shops.csv`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ent_rows, shop_rows = generate_rows(enterprises, shops, seed=seed)
    write_csv(out / "enterprises.csv", ENTERPRISE_HEADER, ent_rows)
    write_csv(out / "shops.csv", SHOP_HEADER, shop_rows)
    return out / "enterprises.csv", out / "shops.csv"


def register_cli(app) -> None:
    """Add ``flask generate-data``."""
    import click

    @app.cli.command("generate-data")
    @click.option("--enterprises", default=10_000, show_default=True, type=click.IntRange(1, 1_000_000))
    @click.option("--shops", default=50_000, show_default=True, type=click.IntRange(0, 5_000_000))
    @click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
    @click.option("--seed", default=20130101, show_default=True, type=int)
    def generate_data_command(enterprises, shops, out_dir, seed):
        """Write a synthetic enterprises.csv / shops.csv pair for benchmarks."""
        started = time.perf_counter()
        ent_path, shop_path = write_synthetic(out_dir, enterprises, shops, seed)
        click.echo(f"已生成 {enterprises} 家企业、{shops} 个店铺：{ent_path}、{shop_path}"
                   f"（用时 {time.perf_counter() - started:.1f} 秒）")
        click.echo(f"导入：flask --app app import-data --enterprises {ent_path} --shops {shop_path}")
