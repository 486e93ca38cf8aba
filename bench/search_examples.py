"""The examples of issue 14's "Where it fails", before and after, on a small fictional data set.

    .venv/bin/python bench/search_examples.py                      # this tree
    .venv/bin/python bench/search_examples.py --root OLD_TREE      # the same examples, older code

The demo data has no 冰箱, 空调 or 自行车, so the examples get their own fictional enterprises
(below), each written the way the issue describes the data. Both trees index the same document
dicts with their own ``SearchEngine``; this tree adds the shipped synonyms and the places table as
the query-time thesaurus, as the site does. For each example the script prints the total, the
first results (brands), and the flags the page shows (partial, did you mean, expansions).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path

# (brand, city, district code, industry, description) — all invented
ENTERPRISES = [
    ("霜澈", "珠海", "440402", "家电", "主营冰箱和洗衣机。"),
    ("凉屿", "中山", "442000", "家电", "主营空调和电风扇。"),
    ("骑迹", "深圳", "440307", "电子产品", "主营自行车和电动自行车配件。"),
    ("栖木", "东莞", "441900", "家具", "主营傢俬：沙发、床垫和餐桌。"),
    ("澜衫", "广州", "440106", "服装", "主营衬衫和女装。"),
    ("鹏芯", "深圳", "440305", "电子产品", "主营5G手机和平板。"),
    ("凤岭", "潮州", "445103", "农产品", "主营凤凰单丛和乌龙茶。"),
    ("灯彩", "中山", "442000", "灯饰", "主营水晶灯饰和户外照明。"),
    ("果乡", "茂名", "440981", "农产品", "主营荔枝、龙眼和菠萝。"),
    ("渔港", "湛江", "440825", "农产品", "主营对虾和生蚝。"),
    ("禺香", "广州", "440113", "食品饮料", "主营凉茶和广式月饼。"),
    ("滘电", "佛山", "440606", "家电", "主营电饭煲和电风扇。"),
    ("美岚", "佛山", "440604", "陶瓷", "主营大板岩板和抛釉瓷砖。"),
    ("星健", "深圳", "440305", "电子产品", "主营蓝牙耳机。"),
    ("瓷韵", "潮州", "445103", "陶瓷", "主营仿古瓷砖。"),
    ("重光", "江门", "440705", "农产品", "主营新会陈皮。"),
    ("乐韵", "广州", "440104", "玩具", "主营儿童乐器。"),
    ("Meyva", "东莞", "441900", "家电", "主营小家电。"),
    ("姜撞", "汕头", "440507", "食品饮料", "主营姜撞奶和双皮奶。"),
    ("岭风", "广州", "440103", "食品饮料", "主营腊味。"),
    ("岭峰", "清远", "441802", "农产品", "主营清远鸡。"),
]
REGIONS = {"珠海": "珠三角", "中山": "珠三角", "深圳": "珠三角", "东莞": "珠三角", "广州": "珠三角",
           "佛山": "珠三角", "江门": "珠三角", "潮州": "粤东", "汕头": "粤东", "茂名": "粤西", "湛江": "粤西",
           "清远": "粤北"}

EXAMPLES = [
    ("Cantonese everyday words", ["雪柜", "冷气", "单车", "梳化", "恤衫"]),
    ("category words", ["智能手机", "茶叶", "灯具", "家具", "家私", "傢俬", "水果", "海鲜"]),
    ("nicknames, districts, towns", ["羊城 凉茶", "鹏城 手机", "番禺", "北滘 电饭煲"]),
    ("pinyin: spaces, capitals, mixed", ["meilan", "Mei Lan", "Xing Jian", "ciyun瓷砖", "gz女装", "dg家具"]),
    ("typos", ["崇光", "月韵", "Mevya", "Myeva"]),
    ("words inside compounds", ["岩板", "瓷砖"]),
    ("partial and no match", ["婴儿奶粉", "婴儿奶粉 姜撞奶", "火星探测器"]),
    ("did you mean on an exact brand", ["岭风", "岭峰"]),
]


def documents(check_character) -> list[dict]:
    docs = []
    for i, (brand, city, area, industry, desc) in enumerate(ENTERPRISES, start=1):
        body = f"91{area}MA{i:07d}"
        uscc = body + check_character(body)
        docs.append({"kind": "enterprise", "id": i, "name": f"{city}市{brand}有限公司", "brands": [brand],
                     "enterprise_name": "", "description": desc, "city": city, "region": REGIONS[city],
                     "industries": [industry], "badges": [], "platforms": ["天猫"], "shop_types": ["旗舰店"],
                     "certified_at": datetime(2025, 1, 1), "visits": 0, "uscc": uscc})
    return docs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    args = ap.parse_args()
    sys.path.insert(0, args.root)
    from marketplace.validation.uscc import check_character
    from search_index import SearchEngine

    now = Path(args.root, "search_index", "thesaurus.py").exists()
    docs = documents(check_character)
    if now:
        from marketplace.search_sync.thesaurus import build_thesaurus
        from marketplace.services.places import district_for_uscc
        from marketplace.services.synonyms import seed_rules
        from search_index.api import SearchRequest

        th = build_thesaurus((r.kind, list(r.terms), list(r.targets)) for r in seed_rules())
        for d in docs:
            district = district_for_uscc(d["uscc"])
            d["places"] = district.search_names if district else []
        request = lambda q: SearchRequest(q=q, kind="enterprise", thesaurus=th)  # noqa: E731
    else:
        from search_index import SearchRequest

        request = lambda q: SearchRequest(q=q, kind="enterprise")  # noqa: E731
    root = tempfile.mkdtemp(prefix="search-examples-")
    try:
        engine = SearchEngine(root)
        with engine.write_lock():
            engine.rebuild(iter(docs), checkpoint=0)
        brands = {d["id"]: d["brands"][0] for d in docs}
        for title, queries in EXAMPLES:
            print(f"## {title}")
            for q in queries:
                r = engine.search(request(q))
                flags = []
                if r.partial:
                    flags.append("partial")
                if r.suggestion:
                    flags.append(f"did you mean: {r.suggestion}")
                for e in getattr(r, "expansions", []):
                    flags.append(f"{e['kind']}: {e['label']}")
                top = "、".join(brands[h.id] for h in r.hits[:5]) or "—"
                print(f"| {q} | {r.total} | {top} | {'; '.join(flags)} |")
        engine.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
