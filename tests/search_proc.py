"""Helper run as a separate process by tests/test_search_sync.py (not a test module).

Usage: python -m tests.search_proc CONFIG_JSON ACTION [ARGS...]
Actions:
  create NAME BRAND          create a certified enterprise, commit, print its id
  create-apply NAME BRAND    the same, then apply the outbox to the index in this process
  churn SECONDS TAG          for SECONDS, create enterprises and rename them, committing each
                             change, with this process's background applier thread running;
                             prints a JSON list of [id, final brand] pairs at the end
"""
from __future__ import annotations

import json
import sys
import time


def main() -> None:
    config = json.loads(sys.argv[1])
    action = sys.argv[2]
    from marketplace import create_app
    from marketplace.extensions import db

    app = create_app(config)
    with app.app_context():
        from tests import factories as f

        if action in ("create", "create-apply"):
            ent = f.make_enterprise(sys.argv[3], brands=[sys.argv[4]], description="跨进程测试企业。",
                                    uscc=f.make_uscc(900_000 + int(time.time() * 1000) % 90_000), certificate=False)
            db.session.commit()
            if action == "create-apply":
                from marketplace.search_sync.applier import apply_pending

                apply_pending(blocking=True)
            print(ent.id, flush=True)
        elif action == "churn":
            from marketplace.models import Brand, Enterprise
            from marketplace.search_sync.background import _Applier

            seconds, tag = float(sys.argv[3]), sys.argv[4]
            offset = 100_000 * (1 + sum(map(ord, tag)) % 50)
            applier = _Applier(app)
            applier.interval = 0.5
            applier.start()
            final: dict[int, str] = {}
            end = time.monotonic() + seconds
            n = 0
            while time.monotonic() < end:
                n += 1
                if n % 3 == 0 and final:
                    ent_id = sorted(final)[n % len(final)]
                    brand = db.session.scalar(db.select(Brand).where(Brand.enterprise_id == ent_id))
                    new = f"{tag}改{n}号"
                    brand.name, brand.name_key = new, new
                    db.session.get(Enterprise, ent_id).description = f"更新第{n}次"
                    db.session.commit()
                    final[ent_id] = new
                else:
                    brand = f"{tag}牌{n}号"
                    ent = f.make_enterprise(f"并发测试{tag}公司{n}", brands=[brand], description="并发测试。",
                                            uscc=f.make_uscc(offset + n), certificate=False)
                    db.session.commit()
                    final[ent.id] = brand
                time.sleep(0.02)
            applier.stop_event.set()
            applier.join(timeout=10)
            print(json.dumps(sorted(final.items())), flush=True)
        db.session.remove()


if __name__ == "__main__":
    main()
