"""How the index files are read: mapped into memory, read in place, never copied.

Whoosh's own ``FileStorage`` offers two ways, both poor for several worker processes:

* with ``mmap`` (its default), each file of a compound segment becomes a ``BufferFile``, whose
  ``BytesIO`` copies the whole file into the process: at 100,000 listings about 360 MB per
  process, copied again by every worker whenever a commit opens a new searcher, and 56 ms before
  a worker's first search can read any postings;
* without it, every read of a sub-file goes through ``SubFile``'s Python seek and read and a
  buffered file read: about 4 µs each, some hundred per search.

``MappedStorage`` maps each file read-only and serves Whoosh's random reads (``get``, which the
term tables, posting blocks, stored fields and columns use) by slicing the map, so the index
pages live once in the operating system's page cache, shared by every process. Whoosh never
changes a file it has written (a commit writes new segment and TOC files), so a map stays valid
for as long as a searcher holds it.
"""
from __future__ import annotations

import mmap
import os

from whoosh.filedb.compound import SubFile
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile


class MappedFile(StructFile):
    """A file, or a range of one (a compound segment's sub-file), read from a shared map.

    ``get`` slices the map; sequential reads (a posting list's header, the TOC) go through the
    map's own file interface, or ``SubFile`` for a range."""

    def __init__(self, mm: mmap.mmap, offset: int = 0, length: int | None = None, name=None, onclose=None):
        whole = offset == 0 and length is None
        self._mm = mm
        self._base = offset
        super().__init__(mm if whole else SubFile(mm, offset, length, name=name), name=name, onclose=onclose)

    def get(self, position, length):
        start = self._base + position
        return self._mm[start:start + length]

    def subset(self, position, length, name=None):
        return MappedFile(self._mm, self._base + position, length, name=name or self._name)


class MappedStorage(FileStorage):
    """An index directory whose files are read through ``MappedFile``.

    ``supports_mmap`` stays False so that Whoosh's ``CompoundStorage`` does not map the file a
    second time and copy its parts; it cuts sub-files with ``MappedFile.subset`` instead."""

    def __init__(self, path: str):
        super().__init__(path, supports_mmap=False)

    def open_file(self, name, **kwargs):
        """The file as a ``MappedFile``; as a plain file where it cannot be mapped (an empty file,
        or a file system without ``mmap``), which Whoosh then reads through ``SubFile``."""
        with open(self._fpath(name), "rb") as fh:
            try:
                mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if os.fstat(fh.fileno()).st_size else None
            except (OSError, ValueError):
                mm = None
        if mm is None:
            return super().open_file(name, **kwargs)
        return MappedFile(mm, name=name, **kwargs)
