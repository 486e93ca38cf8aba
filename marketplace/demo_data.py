"""Deterministic generator of the shipped demo data set (marketplace/data/demo/*.csv).

Run ``python -m marketplace.demo_data`` to rewrite ``enterprises.csv`` and ``shops.csv``; the
output is the same on every run (fixed seed), and the generated files are committed so the demo
loads without running this. Everything is invented: enterprise names, brands (2-3 character
made-up names, checked against a list of well-known real brands), websites on the reserved
``.example`` top-level domain, and every description says the listing is a demo (虚构). Shops use
the platforms' real URL shapes so URL validation and the verify tool behave as in production.

Each city gets the industries it is known for (佛山 陶瓷/家电, 中山 灯饰, 东莞 家具/电子, 潮州 陶瓷,
汕头 玩具, 深圳 电子产品, 广州 服装/皮具/日化, 湛江 农产品/水产 ...), and the 21 cities and 15
industries are all covered.
"""
from __future__ import annotations

import csv
import random
from pathlib import Path

from pypinyin import Style, lazy_pinyin

from .data import platform_host, rows
from .validation.uscc import ALPHABET, check_character

OUT_DIR = Path(__file__).resolve().parent / "data" / "demo"
SEED = 20121108  # the campaign's launch year

# city -> (number of enterprises, [(industry, weight), ...]); codes come from data/cities.csv
CITIES: dict[str, tuple[int, list[tuple[str, int]]]] = {
    "广州": (24, [("服装", 4), ("皮具", 3), ("日化用品", 4), ("食品饮料", 3), ("珠宝首饰", 2)]),
    "深圳": (24, [("电子产品", 6), ("珠宝首饰", 3), ("家电", 2), ("玩具", 1), ("服装", 1)]),
    "珠海": (14, [("家电", 3), ("电子产品", 3), ("食品饮料", 1), ("农产品", 1)]),
    "佛山": (24, [("陶瓷", 5), ("家电", 4), ("家具", 3), ("五金建材", 3), ("纺织", 2)]),
    "江门": (14, [("五金建材", 3), ("农产品", 2), ("食品饮料", 2), ("家电", 1)]),
    "肇庆": (12, [("五金建材", 2), ("农产品", 2), ("食品饮料", 2)]),
    "惠州": (14, [("电子产品", 4), ("家电", 2), ("农产品", 1)]),
    "东莞": (22, [("家具", 4), ("电子产品", 4), ("服装", 2), ("玩具", 2), ("纺织", 2)]),
    "中山": (18, [("灯饰", 6), ("家电", 3), ("家具", 2), ("服装", 1)]),
    "汕头": (16, [("玩具", 6), ("纺织", 2), ("食品饮料", 2), ("服装", 1)]),
    "汕尾": (10, [("农产品", 3), ("食品饮料", 2), ("珠宝首饰", 1)]),
    "潮州": (14, [("陶瓷", 5), ("农产品", 2), ("食品饮料", 2), ("珠宝首饰", 1)]),
    "揭阳": (12, [("五金建材", 3), ("纺织", 2), ("服装", 1), ("农产品", 1)]),
    "湛江": (14, [("农产品", 5), ("食品饮料", 2), ("大宗商品", 2), ("家电", 1)]),
    "茂名": (12, [("农产品", 4), ("大宗商品", 2), ("食品饮料", 1)]),
    "阳江": (12, [("五金建材", 4), ("食品饮料", 2), ("农产品", 1)]),
    "韶关": (10, [("农产品", 3), ("大宗商品", 2), ("食品饮料", 1)]),
    "梅州": (12, [("农产品", 3), ("食品饮料", 2), ("大宗商品", 1)]),
    "河源": (10, [("食品饮料", 2), ("电子产品", 1), ("农产品", 2)]),
    "清远": (10, [("农产品", 3), ("五金建材", 1), ("大宗商品", 1)]),
    "云浮": (10, [("五金建材", 3), ("农产品", 1), ("大宗商品", 1)]),
}

# industry -> (name words, products, descriptive phrases)
INDUSTRIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "电子产品": (("电子科技", "智能科技", "数码科技", "通讯设备"),
              ("蓝牙耳机", "充电宝", "智能手表", "平板配件", "移动电源", "智能音箱", "数据线")),
    "家电": (("电器", "家用电器", "厨卫电器", "小家电"),
           ("电饭煲", "空气炸锅", "电风扇", "燃气热水器", "电磁炉", "净水器", "吸尘器")),
    "陶瓷": (("陶瓷", "瓷业", "建筑陶瓷", "日用陶瓷"),
           ("瓷砖", "岩板", "卫生洁具", "日用餐具", "茶具", "艺术陶瓷")),
    "服装": (("服饰", "制衣", "时装", "服装"),
           ("女装", "衬衫", "牛仔服", "童装", "运动服", "休闲男装")),
    "家具": (("家具", "家居", "木业", "家私"),
           ("实木家具", "沙发", "办公家具", "床垫", "定制衣柜", "餐桌椅")),
    "灯饰": (("灯饰", "照明", "光电", "灯具"),
           ("吸顶灯", "LED 灯具", "水晶吊灯", "台灯", "户外照明", "智能灯具")),
    "皮具": (("皮具", "皮革", "箱包", "皮件"),
           ("手袋", "钱包", "拉杆箱", "双肩包", "皮带", "商务公文包")),
    "食品饮料": (("食品", "饮料", "调味品", "食品科技"),
             ("广式月饼", "凉茶", "蚝油", "腊味", "饼干", "矿泉水", "酱油")),
    "日化用品": (("日化", "化妆品", "生物科技", "日用化工"),
             ("洗发水", "护肤品", "牙膏", "洗衣液", "沐浴露", "香皂")),
    "玩具": (("玩具", "动漫玩具", "益智玩具", "模型"),
           ("积木", "遥控车", "毛绒玩具", "益智拼图", "动漫手办", "早教玩具")),
    "珠宝首饰": (("珠宝", "首饰", "金饰", "珠宝首饰"),
             ("黄金饰品", "翡翠", "珍珠首饰", "银饰", "钻石饰品")),
    "五金建材": (("五金", "建材", "卫浴", "五金制品"),
             ("刀剪", "门锁", "不锈钢厨具", "铝型材", "卫浴五金", "石材")),
    "纺织": (("纺织", "织造", "家纺", "针织"),
           ("床上用品", "毛巾", "内衣", "针织面料", "窗帘布艺")),
    "农产品": (("农业", "果蔬", "茶业", "生态农业"),
            ("荔枝", "龙眼", "菠萝", "单丛茶", "沙田柚", "新会陈皮", "对虾", "清远鸡", "丝苗米")),
    "大宗商品": (("贸易", "物产", "供应链", "实业"),
             ("塑料原料", "钢材", "水泥", "化工原料", "石材荒料", "饲料原料")),
}

# Products that belong to a city (used when the city and industry match).
CITY_PRODUCTS = {
    ("湛江", "农产品"): ("对虾", "菠萝", "金鲳鱼", "红橙"), ("湛江", "食品饮料"): ("水产罐头", "鱼丸"),
    ("茂名", "农产品"): ("荔枝", "龙眼", "罗非鱼"), ("江门", "农产品"): ("新会陈皮", "柑普茶"),
    ("潮州", "农产品"): ("凤凰单丛茶", "柿饼"), ("梅州", "农产品"): ("金柚", "客家娘酒", "单丛茶"),
    ("清远", "农产品"): ("清远鸡", "英德红茶"), ("肇庆", "农产品"): ("裹蒸粽", "砂仁"),
    ("韶关", "农产品"): ("马坝油粘米", "香菇"), ("汕尾", "农产品"): ("海丰油柑", "虾米"),
    ("阳江", "五金建材"): ("刀剪", "不锈钢厨具"), ("揭阳", "五金建材"): ("不锈钢制品", "刀具"),
    ("云浮", "五金建材"): ("石材", "大理石台面"), ("河源", "食品饮料"): ("矿泉水", "米粉"),
    ("广州", "食品饮料"): ("广式月饼", "凉茶", "腊味"), ("阳江", "食品饮料"): ("豆豉", "虾酱"),
}

# Invented brand syllables; combinations are checked against REAL_BRANDS below.
BRAND_FIRST = "岭粤珠榕棠澜禾鹭蕉荔杉岚砚溪汀湄屿晴彤朗沐楠芊蔚煦翎"
BRAND_SECOND = "悦匠坊源田品舍川麓谷舟望岸禾风韵庐苑然光野里"
BRAND_THIRD = "记号坊家堂"
REAL_BRANDS = {
    "美的", "格力", "格兰仕", "华为", "中兴", "大疆", "比亚迪", "康佳", "创维", "万和", "万家乐", "东鹏",
    "马可波罗", "蒙娜丽莎", "欧普", "雷士", "好来", "立白", "蓝月亮", "奥飞", "美心", "海天", "王老吉",
    "加多宝", "李锦记", "周大福", "周生生", "小熊", "海信", "志高", "顺德", "小米", "荣耀", "欧派",
    "索菲亚", "尚品", "林氏", "以纯", "歌莉娅", "卡宾", "珠江", "风行", "燕塘", "广州酒家", "陶陶居",
    "岭南", "珠江啤酒", "晨光", "名创", "潮宏基", "水羊", "丸美", "溪木源", "源田", "谷田", "川田",
}
NAME_CHARS = "嘉宏澜锦弘瑞晟朗铭泓骏睿煜宸茗翊誉昊瀚璟珀琨悦澄骁靖熠楷琪颢昕舜桦霖棠铠潼湛熙逸曜钧翔卓芮鸿"
BADGES = ("国家电子商务示范企业", "省电子商务示范企业", "万家名优企业", "广东老字号", "中华老字号")

# platform slug -> weight per industry group
ONLINE_PLATFORMS = {
    "default": [("tmall", 30), ("jd", 25), ("pinduoduo", 14), ("taobao", 10), ("douyin", 12),
                ("kuaishou", 4), ("vip", 3), ("suning", 2)],
    "农产品": [("pinduoduo", 30), ("taobao", 20), ("douyin", 20), ("tmall", 10), ("jd", 10), ("kuaishou", 10)],
    "大宗商品": [("alibaba1688", 50), ("alibaba", 30), ("jd", 20)],
    "五金建材": [("tmall", 25), ("jd", 25), ("alibaba1688", 25), ("alibaba", 10), ("pinduoduo", 15)],
    "玩具": [("tmall", 25), ("pinduoduo", 20), ("alibaba1688", 15), ("aliexpress", 15), ("douyin", 15), ("jd", 10)],
    "灯饰": [("tmall", 30), ("jd", 20), ("alibaba1688", 20), ("aliexpress", 15), ("pinduoduo", 15)],
    "服装": [("tmall", 30), ("vip", 15), ("douyin", 20), ("taobao", 15), ("dewu", 10), ("pinduoduo", 10)],
    "皮具": [("tmall", 30), ("vip", 20), ("dewu", 15), ("jd", 20), ("aliexpress", 15)],
    "电子产品": [("jd", 35), ("tmall", 30), ("aliexpress", 15), ("pinduoduo", 10), ("douyin", 10)],
    "家电": [("jd", 35), ("tmall", 30), ("suning", 15), ("pinduoduo", 10), ("douyin", 10)],
}
PLATFORM_LABEL = {
    "tmall": "", "jd": "京东", "pinduoduo": "", "taobao": "", "douyin": "抖音", "kuaishou": "快手",
    "alibaba1688": "", "vip": "唯品会", "suning": "苏宁", "dewu": "", "alibaba": "", "aliexpress": "",
    "own-site": "",
}

ENTERPRISE_HEADER = ["uscc", "name", "brands", "city", "industries", "description", "website",
                     "founded", "badges", "certified"]
SHOP_HEADER = ["uscc", "platform", "name", "url", "shop_type"]


def _pinyin(text: str) -> str:
    return "".join(lazy_pinyin(text, style=Style.NORMAL)).lower()


def _uscc(rnd: random.Random, city_code: str, used: set[str]) -> str:
    while True:
        area = city_code[:4] + f"{rnd.randint(2, 28):02d}"
        body = "91" + area + "MA" + "".join(rnd.choice(ALPHABET) for _ in range(7))
        code = body + check_character(body)
        if code not in used:
            used.add(code)
            return code


def _brand(rnd: random.Random, used: set[str]) -> str:
    while True:
        name = rnd.choice(BRAND_FIRST) + rnd.choice(BRAND_SECOND)
        if rnd.random() < 0.3:
            name += rnd.choice(BRAND_THIRD)
        if name in used or any(real in name or name in real for real in REAL_BRANDS):
            continue
        if _pinyin(name) in {_pinyin(u) for u in used}:
            continue
        used.add(name)
        return name


def _description(rnd: random.Random, city: str, industry: str, brand: str, products: list[str],
                 founded: int) -> str:
    lead = {
        "陶瓷": f"扎根{city}陶瓷产区，", "灯饰": f"立足{city}灯饰产业带，", "玩具": f"来自{city}玩具产业集群，",
        "家具": f"依托{city}家具制造基地，", "电子产品": f"位于{city}电子信息产业带，",
        "农产品": f"源自{city}优质产区，", "五金建材": f"依托{city}五金产业基础，",
    }.get(industry, f"立足{city}，")
    channel = rnd.choice(["线上线下同步销售", "入驻多个主流电商平台", "坚持品质与实惠并重",
                          "通过直播与电商拓展全国市场", "产品远销海内外"])
    return (f"{brand}品牌{lead}始创于 {founded} 年，主营{'、'.join(products)}等产品，{channel}。"
            f"（演示数据：本企业与品牌均为虚构。）")


def generate() -> tuple[list[dict], list[dict]]:
    """Return the demo ``(enterprise_rows, shop_rows)``; deterministic (one seeded generator, drawn
    from in a fixed order: changing the order changes every row after it)."""
    rnd = random.Random(SEED)
    used = {"uscc": set(), "brands": set(), "hosts": set()}
    ents: list[dict] = []
    shops: list[dict] = []
    numeric = 10_000_000
    codes = {r["name"]: r["code"] for r in rows("cities.csv")}
    for city, (count, weighted) in CITIES.items():
        pool = [ind for ind, w in weighted for _ in range(w)]
        order = [ind for ind, _w in weighted]  # every listed industry at least once per city
        for k in range(count):
            industries = _pick_industries(rnd, order[k] if k < len(order) else rnd.choice(pool), weighted)
            ent, brand, products, py = _enterprise_row(rnd, city, codes[city], industries, used)
            ents.append(ent)
            for slug in _pick_platforms(rnd, industries[0]):
                numeric += rnd.randint(1_000, 90_000)
                stype, url = _shop(slug, py, numeric, f"{py}.example", used["hosts"])
                shops.append({"uscc": ent["uscc"], "platform": slug, "url": url, "shop_type": stype,
                              "name": _shop_name(stype, slug, brand, city, products[0])})
    return ents, shops


def _pick_industries(rnd: random.Random, industry: str, weighted) -> list[str]:
    """The main industry and, for about one in seven, a second one."""
    industries = [industry]
    if rnd.random() < 0.15:
        extra = rnd.choice([i for i, _w in weighted if i != industry] or [industry])
        if extra != industry:
            industries.append(extra)
    return industries


def _enterprise_row(rnd: random.Random, city: str, code: str, industries: list[str], used: dict):
    """One enterprises.csv row; also its first brand, products and the brand's pinyin (for shops)."""
    industry = industries[0]
    brand = _brand(rnd, used["brands"])
    brands = [brand]
    if rnd.random() < 0.15:
        brands.append(_brand(rnd, used["brands"]))
    words, products_all = INDUSTRIES[industry]
    trade = rnd.choice(NAME_CHARS) + rnd.choice(NAME_CHARS)
    name = f"{city}市{trade}{rnd.choice(words)}有限公司"
    local = list(CITY_PRODUCTS.get((city, industry), ()))
    products = (local + rnd.sample(products_all, 2))[:3] if local else rnd.sample(products_all, 3)
    founded, badges = _founded_and_badges(rnd)
    py = _pinyin(brand)
    certified = rnd.random() < 0.88
    uscc = _uscc(rnd, code, used["uscc"])
    row = {
        "uscc": uscc, "name": name, "brands": ";".join(brands), "city": city, "industries": ";".join(industries),
        "description": _description(rnd, city, industry, brand, products, founded),
        "website": f"https://www.{py}.example/", "founded": str(founded), "badges": ";".join(badges),
        "certified": "是" if certified else "否",
    }
    return row, brand, products, py


def _founded_and_badges(rnd: random.Random) -> tuple[int, list[str]]:
    """Old firms (before 1957) are the 老字号; a few others carry a campaign badge."""
    roll = rnd.random()
    founded = rnd.randint(1985, 2021)
    if roll < 0.05:
        return rnd.randint(1900, 1956), [rnd.choice(["中华老字号", "广东老字号"])]
    if roll < 0.12:
        return founded, [rnd.choice(BADGES[:3])]
    if roll < 0.15:
        return founded, ["国家电子商务示范企业", "万家名优企业"]
    return founded, []


def _pick_platforms(rnd: random.Random, industry: str) -> list[str]:
    """1–4 distinct platforms, weighted by where the industry sells; some have their own site."""
    weights = ONLINE_PLATFORMS.get(industry, ONLINE_PLATFORMS["default"])
    n_shops = rnd.choices([1, 2, 3, 4], [25, 35, 25, 15])[0]
    chosen: list[str] = []
    if rnd.random() < 0.15:
        chosen.append("own-site")
    n_shops = min(n_shops, len(weights) + len(chosen))
    while len(chosen) < n_shops:
        slug = rnd.choices([s for s, _ in weights], [w for _, w in weights])[0]
        if slug not in chosen:
            chosen.append(slug)
    return chosen


def _shop_name(stype: str, slug: str, brand: str, city: str, product: str) -> str:
    label = PLATFORM_LABEL[slug]
    return {
        "旗舰店": f"{brand}{label}官方旗舰店" if slug != "tmall" else f"{brand}旗舰店",
        "专卖店": f"{brand}{label}{city}专卖店",
        "专营店": f"{brand}{label}{product}专营店",
        "官方商城": f"{brand}官方商城",
    }[stype]


def _shop(slug: str, py: str, n: int, domain: str, used_hosts: set[str]) -> tuple[str, str]:
    """Shop type and URL on the platform's real host."""
    def sub(host: str) -> str:
        name = py
        i = 2
        while f"{name}.{host}" in used_hosts:
            name, i = f"{py}{i}", i + 1
        used_hosts.add(f"{name}.{host}")
        return name

    if slug == "own-site":
        return "官方商城", f"https://shop.{domain}/"
    stype = "旗舰店" if n % 5 else ("专卖店" if n % 2 else "专营店")
    host = platform_host
    url = {
        "tmall": lambda: f"https://{sub(host('tmall'))}.{host('tmall')}/",
        "jd": lambda: f"https://mall.{host('jd')}/index-{n}.html",
        "pinduoduo": lambda: f"https://mobile.{host('pinduoduo', 1)}/mall_page.html?mall_id={n}",
        "taobao": lambda: f"https://shop{n}.{host('taobao')}/",
        "douyin": lambda: f"https://haohuo.{host('douyin')}/views/shop/index?id={py}{n % 10000}",
        "kuaishou": lambda: f"https://app.{host('kuaishou')}/merchant/shop/detail?id={n}",
        "alibaba1688": lambda: f"https://{sub(host('alibaba1688'))}.{host('alibaba1688')}/",
        "vip": lambda: f"https://list.{host('vip')}/brand-{n}.html",
        "suning": lambda: f"https://shop.{host('suning')}/{n}/index.html",
        "dewu": lambda: f"https://www.{host('dewu')}/brand/{py}-{n % 10000}",
        "alibaba": lambda: f"https://{sub('en.' + host('alibaba'))}.en.{host('alibaba')}/",
        "aliexpress": lambda: f"https://www.{host('aliexpress')}/store/{n}",
    }[slug]()
    if slug in ("alibaba1688", "alibaba"):
        stype = "旗舰店"
    return stype, url


def write(out_dir: Path = OUT_DIR) -> tuple[Path, Path]:
    """Write ``enterprises.csv`` and ``shops.csv`` (UTF-8, no BOM, LF) into ``out_dir``."""
    ents, shops = generate()
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, header, table in (("enterprises.csv", ENTERPRISE_HEADER, ents), ("shops.csv", SHOP_HEADER, shops)):
        with open(out_dir / name, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
            writer.writeheader()
            writer.writerows(table)
    return out_dir / "enterprises.csv", out_dir / "shops.csv"


if __name__ == "__main__":  # pragma: no cover
    e, s = write()
    print(f"wrote {e} and {s}")
