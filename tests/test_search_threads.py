"""One SearchEngine shared by many threads (the threaded dev server) answers every search.

Whoosh searchers are not thread-safe; before searcher use was serialised, concurrent searches
failed with unpickling/zlib errors that were then mistaken for index damage.
"""
import sys
import threading
from pathlib import Path

from search_index import SearchEngine
from search_index.api import SearchRequest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from search_bench import build_documents  # noqa: E402


def test_concurrent_searches_in_threads_all_succeed(tmp_path):
    engine = SearchEngine(str(tmp_path / "index"))
    with engine.write_lock():
        engine.rebuild(iter(build_documents(3000)), checkpoint=0)
    expected = engine.search(SearchRequest(q="旗舰店")).total
    assert expected > 0
    queries = ["旗舰店", "佛山 陶瓷", "灯饰", "shenzhen", "家电", "专卖店", "广州"]
    errors: list[BaseException] = []
    totals: list[int] = []

    def worker(n: int) -> None:
        try:
            for i in range(25):
                q = queries[(n + i) % len(queries)]
                resp = engine.search(SearchRequest(q=q, page=1 + i % 3))
                if q == "旗舰店":
                    totals.append(resp.total)
                engine.suggest(q[:1])
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[:3]
    assert totals and set(totals) == {expected}
