"""What an import reports: one ``RowError`` per bad cell, the ``ImportReport`` summary, and the
terminal progress bar. Shared by the reading, validating and writing steps of the importer, so it
sits below all of them.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field

ENTITIES = ("enterprise", "shop")
MAX_REPORTED = 200  # problems listed in full; the rest are only counted
MAX_VALUE_CHARS = 60  # a bad cell is shown up to this many characters
MAX_REASON_CHARS = 400


def clip(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut (user input in a report)."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "…"


def clip_list(items: list[str], shown: int = 10) -> str:
    """The first ``shown`` items (each clipped), then how many more: a list a user made may be long."""
    head = "、".join(clip(item, 30) for item in items[:shown])
    return head + (f" 等 {len(items)} 个" if len(items) > shown else "")


@dataclass
class RowError:
    """One problem in one cell (or the whole file when ``line`` is 0). Whatever came from the
    file (column name, cell, reason quoting it) is clipped, so one problem stays small."""

    file: str
    line: int
    column: str
    reason: str
    value: str = ""  # the bad cell as written, when there is one

    def __post_init__(self) -> None:
        self.file = clip(self.file, 80)
        self.column = clip(self.column, 40)
        self.value = clip(self.value)
        self.reason = clip(self.reason, MAX_REASON_CHARS)

    def __str__(self) -> str:
        where = f"第 {self.line} 行" if self.line else "文件"
        col = f"「{self.column}」列" if self.column else ""
        value = f"（“{self.value}”）" if self.value else ""
        return f"{self.file} {where}{col}{value}：{self.reason}"


class ProblemList(list):
    """The problems of one import, bounded: the first ``MAX_REPORTED`` are kept, the rest only
    counted (``total``), so a file with 100,000 bad cells makes a report of 200 lines and a count,
    not a 34 MB page. Add with ``append``/``extend`` only."""

    def __init__(self, limit: int = MAX_REPORTED):
        super().__init__()
        self.limit = limit
        self.total = 0

    def append(self, error: RowError) -> None:
        self.total += 1
        if len(self) < self.limit:
            super().append(error)

    def extend(self, errors) -> None:
        for error in errors:
            self.append(error)


def _zero() -> dict[str, int]:
    return {k: 0 for k in ENTITIES}


@dataclass
class ImportReport:
    """What an import did (or, for a dry run or a refused import, would do)."""

    errors: ProblemList = field(default_factory=ProblemList)
    created: dict[str, int] = field(default_factory=_zero)
    updated: dict[str, int] = field(default_factory=_zero)
    unchanged: dict[str, int] = field(default_factory=_zero)
    certificates: int = 0
    dry_run: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors.total

    @property
    def error_count(self) -> int:
        """Every problem found, listed or not."""
        return self.errors.total

    @property
    def unlisted(self) -> int:
        """Problems counted beyond the ones listed."""
        return self.errors.total - len(self.errors)

    def summary_lines(self) -> list[str]:
        """The summary in Chinese, one line per entity kind."""
        names = {"enterprise": "企业", "shop": "店铺"}
        return [
            f"{names[k]}：新增 {self.created[k]}，更新 {self.updated[k]}，未变 {self.unchanged[k]}"
            for k in ENTITIES
        ]


class _Progress:
    """A tqdm bar on a terminal, nothing otherwise."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, iterable, total: int, desc: str):
        if not self.enabled or total < 500:
            return iterable
        from tqdm import tqdm

        return tqdm(iterable, total=total, desc=desc, unit="行", file=sys.stderr, leave=False)

    def chunks(self, items: list, size: int, desc: str):
        """Yield ``items`` in chunks of ``size``, advancing the bar by rows, not chunks."""
        if not self.enabled or len(items) < 500:
            yield from _chunks(items, size)
            return
        from tqdm import tqdm

        with tqdm(total=len(items), desc=desc, unit="行", file=sys.stderr, leave=False) as progress:
            for chunk in _chunks(items, size):
                yield chunk
                progress.update(len(chunk))


def _chunks(items: list, size: int = 500):
    for i in range(0, len(items), size):
        yield items[i:i + size]
