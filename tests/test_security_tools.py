"""Static analysis in the test suite: bandit over marketplace/ and search_index/.

Every finding must be listed in EXPLAINED with the reason it is not a vulnerability; a new
finding fails the suite until it is fixed or explained here. (pip-audit needs PyPI's JSON API /
OSV, which this build machine cannot reach: run `pip-audit --strict -r requirements.txt` where
they are reachable; see bench/README.md.)
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# (file, bandit test id) -> why it is acceptable
EXPLAINED = {
    ("marketplace/demo_data.py", "B311"): "random picks fictional demo data; nothing secret is derived from it",
    ("marketplace/services/demo.py", "B311"): "random picks fictional demo data; nothing secret is derived from it",
    ("marketplace/services/synthetic.py", "B311"): "seeded random builds the synthetic benchmark set",
    ("marketplace/views/feeds.py", "B405"): "ElementTree only WRITES the sitemap/feed XML; no XML is parsed",
    ("marketplace/views/feeds.py", "B406"): "saxutils.escape escapes text for generated XML; no XML is parsed",
    ("marketplace/views/trust/certificates.py", "B406"): "saxutils.escape escapes text for the generated SVG badge; no XML is parsed",
    ("marketplace/views/atom.py", "B405"): "ElementTree only WRITES the Atom feed XML; no XML is parsed",
    ("marketplace/services/rich_text.py", "B704"): "Markup() wraps HTML that nh3 has just sanitised with an allow-list",
    ("marketplace/templating.py", "B704"): "Markup() wraps what an autoescaped template rendered (kept_partial: the "
                                           "header's links and the footer, no user input)",
    ("search_index/fastpath.py", "B403"): "unpickles Whoosh's own posting blocks from our index directory, as Whoosh's reader does",
    ("search_index/fastpath.py", "B301"): "unpickles Whoosh's own posting blocks from our index directory, as Whoosh's reader does",
    ("search_index/schema.py", "B324"): "SHA-1 fingerprints document content to skip unchanged re-indexing; not security",
}


@pytest.mark.slow
def test_bandit_findings_are_all_explained():
    bandit = shutil.which("bandit", path=str(Path(sys.executable).parent)) or shutil.which("bandit")
    if bandit is None:
        pytest.skip("bandit is not installed (requirements-dev.txt)")
    out = subprocess.run([bandit, "-r", "marketplace", "search_index", "-q", "-f", "json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=240)
    report = json.loads(out.stdout)
    assert not report.get("errors"), report["errors"]
    found = Counter((r["filename"].removeprefix("./"), r["test_id"]) for r in report["results"])
    unexplained = {k: n for k, n in found.items() if k not in EXPLAINED}
    details = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}"
               for r in report["results"] if (r["filename"].removeprefix("./"), r["test_id"]) in unexplained]
    assert not unexplained, "new bandit findings (fix them or explain them in EXPLAINED):\n" + "\n".join(details)
