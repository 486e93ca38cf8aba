"""What an import reports: one ``RowError`` per bad cell, the ``ImportReport`` summary, and the
terminal progress bar. Shared by the reading, validating and writing steps of the importer, so it
sits below all of them.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field

ENTITIES = ("enterprise", "shop")


@dataclass
class RowError:
    """One problem in one cell (or the whole file when ``line`` is 0)."""

    file: str
    line: int
    column: str
    reason: str
    value: str = ""  # the bad cell as written (shortened), when there is one

    def __str__(self) -> str:
        where = f"第 {self.line} 行" if self.line else "文件"
        col = f"「{self.column}」列" if self.column else ""
        return f"{self.file} {where}{col}：{self.reason}"


def _zero() -> dict[str, int]:
    return {k: 0 for k in ENTITIES}


@dataclass
class ImportReport:
    """What an import did (or, for a dry run or a refused import, would do)."""

    errors: list[RowError] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=_zero)
    updated: dict[str, int] = field(default_factory=_zero)
    unchanged: dict[str, int] = field(default_factory=_zero)
    certificates: int = 0
    dry_run: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

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
