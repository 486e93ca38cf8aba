"""The judged query set for search quality, built from the demo data (not a test module).

Each query states an intent as rules over the demo enterprises' facts (brand, legal name, the
products listed in the description, industry, city, district from the credit code, shops'
platforms), never over what the search returns. ``build()`` turns the rules into graded
judgments, keyed by 统一社会信用代码 (stable across loads) or ``platform:<slug>``:

* 3 – what the query names (the brand, the enterprise, the platform);
* 2 – fully relevant (sells the product; the product in the place asked for);
* 1 – partly relevant (the product elsewhere than the place asked for; the same industry).

``expect_empty`` queries name nothing in the data: the right answer is no result at all.

    python -m tests.search_judged      # rewrite tests/data/search_judged.json

``tests/search_quality.py`` scores the search against the file (nDCG@10).
"""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from pypinyin import Style, lazy_pinyin

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "marketplace" / "data" / "demo"
OUT = Path(__file__).resolve().parent / "data" / "search_judged.json"
CITY_CODES = {r["name"]: r["code"] for r in csv.DictReader(open(ROOT / "marketplace" / "data" / "cities.csv",
                                                                 encoding="utf-8"))}


def _p(*products):
    return {"product": list(products)}


# (category, query, [(grade, criteria), ...]); criteria keys (all must hold): brand, brand_has,
# name_has, product (any), industry (any), city (any), district (area codes, any), platform.
INTENTS: list[tuple[str, str, list]] = []


def intent(cat: str, q: str, *rules) -> None:
    INTENTS.append((cat, q, list(rules)))


# --- products in their standard words (the product sellers; the same industry a little)
for q, products, industry in [
    ("凉茶", ["凉茶"], "食品饮料"), ("腊味", ["腊味"], "食品饮料"), ("矿泉水", ["矿泉水"], "食品饮料"),
    ("饼干", ["饼干"], "食品饮料"), ("酱油", ["酱油"], "食品饮料"), ("蚝油", ["蚝油"], "食品饮料"),
    ("广式月饼", ["广式月饼"], "食品饮料"), ("月饼", ["月饼"], "食品饮料"), ("空气炸锅", ["空气炸锅"], "家电"),
    ("电磁炉", ["电磁炉"], "家电"), ("电风扇", ["电风扇"], "家电"), ("净水器", ["净水器"], "家电"),
    ("蓝牙耳机", ["蓝牙耳机"], "电子产品"), ("智能手表", ["智能手表"], "电子产品"),
    ("充电宝", ["充电宝", "移动电源"], "电子产品"), ("智能音箱", ["智能音箱"], "电子产品"),
    ("门锁", ["门锁"], "五金建材"), ("铝型材", ["铝型材"], "五金建材"), ("石材", ["石材", "大理石"], "五金建材"),
    ("刀剪", ["刀剪", "刀具"], "五金建材"), ("珍珠首饰", ["珍珠首饰"], "珠宝首饰"), ("翡翠", ["翡翠"], "珠宝首饰"),
    ("童装", ["童装"], "服装"), ("牛仔服", ["牛仔服"], "服装"), ("动漫手办", ["动漫手办"], "玩具"),
    ("遥控车", ["遥控车"], "玩具"), ("丝苗米", ["丝苗米"], "农产品"), ("荔枝", ["荔枝"], "农产品"),
    ("新会陈皮", ["新会陈皮"], "农产品"), ("清远鸡", ["清远鸡"], "农产品"), ("沙田柚", ["沙田柚"], "农产品"),
    ("床上用品", ["床上用品"], "纺织"), ("水晶吊灯", ["水晶吊灯"], "灯饰"), ("塑料原料", ["塑料原料"], "大宗商品"),
]:
    intent("商品", q, (2, _p(*products)), (1, {"industry": [industry]}))

# --- Cantonese and colloquial words for what the data calls otherwise
for q, products in [
    ("梳化", ["沙发"]), ("床褥", ["床垫"]), ("恤衫", ["衬衫"]), ("银包", ["钱包"]), ("荷包", ["钱包"]),
    ("拉喼", ["拉杆箱"]), ("行李箱", ["拉杆箱"]), ("背囊", ["双肩包"]), ("洗头水", ["洗发水"]),
    ("番枧", ["香皂"]), ("冲凉液", ["沐浴露"]), ("豉油", ["酱油"]), ("公仔", ["毛绒玩具"]),
    ("砌图", ["拼图"]), ("波衫", ["运动服"]), ("底衫", ["内衣"]), ("面巾", ["毛巾"]), ("饭台", ["餐桌"]),
    ("热水炉", ["热水器"]), ("电饭锅", ["电饭煲"]), ("吸尘机", ["吸尘器"]), ("风扇", ["电风扇"]),
    ("滤水器", ["净水器"]), ("尿袋", ["充电宝", "移动电源"]), ("叉电线", ["数据线"]), ("耳筒", ["耳机"]),
    ("气炸锅", ["空气炸锅"]), ("金器", ["黄金饰品"]), ("果皮", ["陈皮"]), ("桂圆", ["龙眼"]),
    ("凤梨", ["菠萝"]), ("福寿鱼", ["罗非鱼"]), ("鱼蛋", ["鱼丸"]), ("走地鸡", ["清远鸡"]), ("冬菇", ["香菇"]),
    ("大虾", ["对虾"]), ("英泥", ["水泥"]), ("单枞", ["单丛"]), ("天花灯", ["吸顶灯"]), ("铰剪", ["刀剪"]),
    ("白钢", ["不锈钢"]), ("磁砖", ["瓷砖"]), ("生抽", ["酱油"]), ("曲奇", ["饼干"]), ("腊肠", ["腊味"]),
]:
    intent("粤语俗称", q, (2, _p(*products)))
intent("粤语俗称", "家私", (2, {"industry": ["家具"]}), (2, _p("家具", "沙发", "床垫", "衣柜", "餐桌")))
intent("粤语俗称", "手信", (2, _p("腊味", "月饼", "陈皮", "柿饼", "凉茶")))

# --- category words against the names of what is sold
intent("品类", "水果", (2, _p("荔枝", "龙眼", "菠萝", "沙田柚", "金柚", "柿饼", "油柑", "红橙")), (1, {"industry": ["农产品"]}))
intent("品类", "海鲜", (2, _p("对虾", "罗非鱼", "金鲳鱼", "虾米", "虾酱", "鱼丸", "水产罐头")))
intent("品类", "水产", (2, _p("对虾", "罗非鱼", "金鲳鱼", "虾米", "虾酱", "鱼丸", "水产罐头")))
intent("品类", "茶叶", (2, _p("单丛茶", "柑普茶", "英德红茶")), (2, {"name_has": "茶业"}))
intent("品类", "乌龙茶", (2, _p("单丛茶")))
intent("品类", "灯具", (2, {"industry": ["灯饰"]}), (2, _p("灯具", "吊灯", "台灯", "吸顶灯", "照明")))
intent("品类", "照明", (2, {"industry": ["灯饰"]}), (2, _p("灯具", "吊灯", "台灯", "吸顶灯", "照明")))
intent("品类", "首饰", (2, {"industry": ["珠宝首饰"]}))
intent("品类", "厨具", (2, _p("不锈钢厨具", "刀剪", "刀具", "日用餐具")))
intent("品类", "卫浴", (2, _p("卫浴五金", "卫生洁具")), (2, {"name_has": "卫浴"}))
intent("品类", "小家电", (2, _p("电饭煲", "电风扇", "电磁炉", "空气炸锅", "吸尘器")), (2, {"name_has": "小家电"}),
       (1, {"industry": ["家电"]}))
intent("品类", "箱包", (2, {"industry": ["皮具"]}), (2, _p("拉杆箱", "双肩包", "钱包", "手袋", "公文包")))
intent("品类", "手机配件", (2, _p("数据线", "充电宝", "移动电源")), (1, {"industry": ["电子产品"]}))
intent("品类", "零食", (2, _p("饼干", "柿饼", "鱼丸")))
intent("品类", "粮油", (2, _p("丝苗米", "油粘米", "米粉")))
intent("品类", "干货", (2, _p("虾米", "香菇", "陈皮", "柿饼", "腊味")))
intent("品类", "家纺", (2, {"industry": ["纺织"]}), (2, _p("床上用品", "毛巾", "窗帘")))
intent("品类", "日用品", (2, _p("洗发水", "沐浴露", "牙膏", "洗衣液", "香皂", "毛巾")))

# --- a city with a product or industry (the product elsewhere is partly relevant)
for q, city, products, industry in [
    ("佛山 瓷砖", "佛山", ["瓷砖"], "陶瓷"), ("中山 灯饰", "中山", None, "灯饰"), ("东莞 家具", "东莞", None, "家具"),
    ("潮州 陶瓷", "潮州", None, "陶瓷"), ("汕头 玩具", "汕头", None, "玩具"), ("深圳 耳机", "深圳", ["耳机"], "电子产品"),
    ("广州 凉茶", "广州", ["凉茶"], "食品饮料"), ("湛江 对虾", "湛江", ["对虾"], "农产品"),
    ("阳江 刀剪", "阳江", ["刀剪"], "五金建材"), ("江门 陈皮", "江门", ["陈皮"], "农产品"),
    ("梅州 金柚", "梅州", ["金柚"], "农产品"), ("茂名 荔枝", "茂名", ["荔枝"], "农产品"),
    ("惠州 电子", "惠州", None, "电子产品"), ("揭阳 不锈钢", "揭阳", ["不锈钢"], "五金建材"),
    ("珠海 家电", "珠海", None, "家电"), ("云浮 石材", "云浮", ["石材", "大理石"], "五金建材"),
]:
    if products:
        intent("城市+商品", q, (2, {"city": [city], **_p(*products)}), (1, _p(*products)),
               (1, {"city": [city], "industry": [industry]}))
    else:
        intent("城市+商品", q, (2, {"city": [city], "industry": [industry]}), (1, {"industry": [industry]}))

# --- city nicknames (羊城 is 广州 ...)
for q, city, products in [
    ("羊城 凉茶", "广州", ["凉茶"]), ("羊城 腊味", "广州", ["腊味"]), ("花城 服装", "广州", None),
    ("鹏城 蓝牙耳机", "深圳", ["蓝牙耳机"]), ("鹅城 智能手表", "惠州", ["智能手表"]),
    ("鮀城 玩具", "汕头", None), ("凤城 单丛茶", "潮州", ["单丛茶"]), ("香山 灯饰", "中山", None),
    ("油城 荔枝", "茂名", ["荔枝"]), ("漠阳 刀剪", "阳江", ["刀剪"]), ("广州湾 对虾", "湛江", ["对虾"]),
    ("客都 金柚", "梅州", ["金柚"]), ("侨都 陈皮", "江门", ["陈皮"]),
]:
    industry = {"花城 服装": "服装", "鮀城 玩具": "玩具", "香山 灯饰": "灯饰"}.get(q)
    if products:
        intent("城市别称", q, (2, {"city": [city], **_p(*products)}), (1, _p(*products)))
    else:
        intent("城市别称", q, (2, {"city": [city], "industry": [industry]}), (1, {"industry": [industry]}))

# --- districts and towns (registered there according to the credit code); with a product, the
# product there first, the product elsewhere partly
for q, codes in [
    ("斗门", ["440403"]), ("白蕉", ["440403"]), ("海珠", ["440105"]), ("花都", ["440114"]), ("狮岭", ["440114"]),
    ("福田", ["440304"]), ("华强北", ["440304"]), ("罗湖", ["440303"]), ("徐闻", ["440825"]), ("龙湖", ["440507"]),
    ("南海", ["440605"]),
]:
    intent("区县与镇", q, (2, {"district": codes}))
for q, codes, products in [("水贝 珠宝", ["440303"], ["珠宝", "首饰", "饰品", "翡翠"]), ("曲界 菠萝", ["440825"], ["菠萝"]),
                           ("华强北 充电宝", ["440304", "440303"], ["充电宝", "移动电源"])]:
    intent("区县与镇", q, (2, {"district": codes, **_p(*products)}), (1, _p(*products)))

# --- pinyin or initials of a place mixed with characters
for q, city, products, industry in [
    ("dg家具", "东莞", None, "家具"), ("fs瓷砖", "佛山", ["瓷砖"], "陶瓷"), ("gz服装", "广州", None, "服装"),
    ("sz耳机", "深圳", ["耳机"], "电子产品"), ("zs灯饰", "中山", None, "灯饰"), ("st玩具", "汕头", None, "玩具"),
    ("foshan 陶瓷", "佛山", None, "陶瓷"), ("guangzhou凉茶", "广州", ["凉茶"], "食品饮料"),
    ("zhanjiang 对虾", "湛江", ["对虾"], "农产品"), ("cz陶瓷", "潮州", None, "陶瓷"),
]:
    if products:
        intent("拼音+汉字", q, (2, {"city": [city], **_p(*products)}), (1, _p(*products)))
    else:
        intent("拼音+汉字", q, (2, {"city": [city], "industry": [industry]}), (1, {"industry": [industry]}))

# --- Traditional characters
intent("繁体", "傢俬", (2, {"industry": ["家具"]}), (2, _p("家具", "沙发", "床垫")))
intent("繁体", "涼茶", (2, _p("凉茶")), (1, {"industry": ["食品饮料"]}))
intent("繁体", "廣州 臘味", (2, {"city": ["广州"], **_p("腊味")}), (1, _p("腊味")))
intent("繁体", "藍牙耳機", (2, _p("蓝牙耳机")), (1, {"industry": ["电子产品"]}))
intent("繁体", "珠寶首飾", (2, {"industry": ["珠宝首饰"]}))
intent("繁体", "電飯煲", (2, _p("电饭煲")), (1, {"industry": ["家电"]}))
intent("繁体", "茶葉", (2, _p("单丛茶", "柑普茶", "英德红茶")))
intent("繁体", "東莞 傢具", (2, {"city": ["东莞"], "industry": ["家具"]}), (1, {"industry": ["家具"]}))

# --- words hidden inside longer compounds (英德红茶 is segmented 英德/英德红/茶)
intent("词中词", "红茶", (2, _p("红茶")))
intent("词中词", "布艺", (2, _p("布艺")))
intent("词中词", "实木", (2, _p("实木")))
intent("词中词", "油粘米", (2, _p("油粘米")))
intent("词中词", "金鲳", (2, _p("金鲳")))

# --- platforms, by name and nickname
for q, slug in [("天猫", "tmall"), ("京东", "jd"), ("狗东", "jd"), ("拼夕夕", "pinduoduo"), ("抖音", "douyin")]:
    intent("平台", q, (3, {"platform_doc": slug}), (1, {"platform": [slug]}))

# --- nothing in the data answers these
for q in ["婴儿奶粉", "火星探测器", "量子计算机", "汽车轮胎", "xqzptk", "房地产 中介", "股票基金", "高铁票",
          "宠物医院", "婚纱摄影"]:
    INTENTS.append(("无结果", q, None))


# ------------------------------------------------------------------ from the data

def enterprises() -> list[dict]:
    """The certified demo enterprises with the facts the rules look at."""
    shops: dict[str, set[str]] = {}
    with open(DEMO / "shops.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            shops.setdefault(r["uscc"], set()).add(r["platform"])
    out = []
    with open(DEMO / "enterprises.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["certified"] != "是":
                continue
            m = re.search(r"主营(.+?)等产品", r["description"])
            out.append({"uscc": r["uscc"], "name": r["name"], "brands": r["brands"].split(";"), "city": r["city"],
                        "industries": r["industries"].split(";"), "products": m.group(1) if m else "",
                        "area": r["uscc"][2:8], "platforms": shops.get(r["uscc"], set())})
    return out


def _holds(ent: dict, crit: dict) -> bool:
    checks = {
        "brand": lambda v: v in ent["brands"],
        "brand_has": lambda v: any(v in b for b in ent["brands"]),
        "name_has": lambda v: v in ent["name"],
        "product": lambda v: any(p in ent["products"] for p in v),
        "industry": lambda v: any(i in ent["industries"] for i in v),
        "city": lambda v: ent["city"] in v,
        "district": lambda v: ent["area"] in v,
        "platform": lambda v: bool(set(v) & ent["platforms"]),
        "platform_doc": lambda v: False,
    }
    return all(checks[k](v) for k, v in crit.items())


def _brand_intents(ents: list[dict]) -> None:
    """Brands, legal-name words, and brands typed in pinyin, picked evenly from the data."""
    picked = ents[::13][:21]
    for e in picked:
        intent("品牌", e["brands"][0], (3, {"brand": e["brands"][0]}), (1, {"brand_has": e["brands"][0]}))
    for e in ents[5::37][:8]:
        trade = e["name"][len(e["city"]) + 1:len(e["city"]) + 3]  # 广州市霖嘉时装有限公司 -> 霖嘉
        word = e["name"][len(e["city"]) + 1:].replace("有限公司", "")
        intent("企业名称", word, (3, {"name_has": word}), (1, {"name_has": trade}))
    for i, e in enumerate(ents[3::23][:16]):
        brand = e["brands"][0]
        plain = lazy_pinyin(brand)
        typed = ["".join(plain), " ".join(s.capitalize() for s in plain), " ".join(lazy_pinyin(brand, style=Style.TONE)),
                 "".join(plain).upper()][i % 4]
        intent("品牌拼音", typed, (3, {"brand": brand}))
    for e in [x for x in ents if len(x["brands"][0]) == 3][::9][:5]:
        intent("品牌首字母", "".join(s[0] for s in lazy_pinyin(e["brands"][0])), (3, {"brand": e["brands"][0]}))
    for e in ents[7::41][:6]:  # one pair of neighbouring letters swapped in the pinyin
        py = "".join(lazy_pinyin(e["brands"][0]))
        k = len(py) // 2
        intent("拼音错字", py[:k - 1] + py[k] + py[k - 1] + py[k + 1:], (3, {"brand": e["brands"][0]}))


def build() -> list[dict]:
    """Graded judgments for every intent (see the module docstring)."""
    ents = enterprises()
    _brand_intents(ents)
    seen: set[str] = set()
    out = []
    for cat, q, rules in INTENTS:
        if q in seen:
            continue
        seen.add(q)
        if rules is None:
            out.append({"q": q, "category": cat, "expect_empty": True, "grades": {}})
            continue
        grades: dict[str, int] = {}
        for grade, crit in rules:
            if "platform_doc" in crit:
                grades[f"platform:{crit['platform_doc']}"] = grade
                crit = {k: v for k, v in crit.items() if k != "platform_doc"} or None
                if crit is None:
                    continue
            for e in ents:
                if _holds(e, crit):
                    grades[e["uscc"]] = max(grades.get(e["uscc"], 0), grade)
        if not grades:
            raise ValueError(f"no judged document for {q!r}: fix its rules")
        out.append({"q": q, "category": cat, "expect_empty": False, "grades": grades})
    return out


def main() -> None:
    judged = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(judged, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    cats: dict[str, int] = {}
    for j in judged:
        cats[j["category"]] = cats.get(j["category"], 0) + 1
    print(f"{len(judged)} judged queries -> {OUT.relative_to(ROOT)}: " + ", ".join(f"{k} {v}" for k, v in cats.items()))


if __name__ == "__main__":
    main()
