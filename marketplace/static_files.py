"""Static files in production shape: WhiteNoise, long-lived caching, gzip, cache-busting URLs.

Why WhiteNoise: it answers ``/static/...`` in front of Flask (no session, no database, no
``after_request`` work per file), serves pre-compressed ``.gz`` variants with the right
``Vary``/``Content-Encoding``/``ETag`` headers and HEAD/Range support, and only ever serves files
it indexed at start (no path traversal). Flask's own static route stays as the fallback for files
added after start.

Caching: every ``url_for('static', filename=...)`` gets ``?v=<content hash>``, so the files can be
cached for a year (``STATIC_MAX_AGE``): a changed file gets a new URL. Reference static files
only through ``url_for`` (templates) so they carry the version.

Compression: with ``STATIC_COMPRESS`` on (not under TESTING), the first worker to start mirrors
``static/`` into ``<instance>/static_build`` with a gzip variant of every compressible file,
under a file lock and incrementally (only changed files are redone), writing atomically so a
concurrent worker never serves a half-written file.
"""
from __future__ import annotations

import fcntl
import gzip
import hashlib
import logging
import os
from pathlib import Path

from flask import Flask
from whitenoise import WhiteNoise

log = logging.getLogger(__name__)

# Formats that are already compressed: gzip would only cost CPU.
_SKIP_COMPRESS = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".woff", ".woff2", ".gz", ".br", ".zip", ".ico"}
_MIN_COMPRESS_BYTES = 512

_hash_cache: dict[tuple[str, int, int], str] = {}


def file_version(static_folder: str, filename: str) -> str | None:
    """Short content hash of a static file (cached by path, mtime and size); None if missing."""
    path = os.path.join(static_folder, filename)
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    key = (path, st.st_mtime_ns, st.st_size)
    version = _hash_cache.get(key)
    if version is None:
        digest = hashlib.blake2b(digest_size=6)
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 16), b""):
                digest.update(chunk)
        version = digest.hexdigest()
        _hash_cache[key] = version
    return version


def _write_atomic(target: Path, data: bytes, mtime_ns: int) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.utime(tmp, ns=(mtime_ns, mtime_ns))
    os.replace(tmp, target)


def build_static(source: Path, out: Path) -> int:
    """Mirror ``source`` into ``out`` with ``.gz`` variants; return how many files were (re)built.

    Safe to call from several processes at once (file lock) and cheap when nothing changed.
    Files that disappeared from ``source`` are removed from ``out``.
    """
    out.mkdir(parents=True, exist_ok=True)
    built = 0
    with open(out.parent / (out.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        wanted: set[Path] = set()
        for src in source.rglob("*"):
            if not src.is_file() or src.name.startswith("."):
                continue
            rel = src.relative_to(source)
            dst = out / rel
            wanted.add(dst)
            st = src.stat()
            compress = src.suffix.lower() not in _SKIP_COMPRESS and st.st_size >= _MIN_COMPRESS_BYTES
            gz = dst.with_name(dst.name + ".gz")
            if compress:
                wanted.add(gz)
            try:
                dst_st = dst.stat()
                fresh = dst_st.st_mtime_ns == st.st_mtime_ns and dst_st.st_size == st.st_size
            except OSError:
                fresh = False
            if fresh and (not compress or gz.exists()):
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            data = src.read_bytes()
            _write_atomic(dst, data, st.st_mtime_ns)
            if compress:
                packed = gzip.compress(data, compresslevel=9, mtime=0)
                if len(packed) < len(data) * 0.95:
                    _write_atomic(gz, packed, st.st_mtime_ns)
                else:
                    wanted.discard(gz)
                    gz.unlink(missing_ok=True)
            built += 1
        for stale in [p for p in out.rglob("*") if p.is_file() and p not in wanted]:
            stale.unlink(missing_ok=True)
    return built


def init_app(app: Flask) -> None:
    """Put WhiteNoise in front of the app and version every ``url_for('static', ...)`` URL."""
    static_folder = app.static_folder or "static"
    root = Path(static_folder)
    if app.config.get("STATIC_COMPRESS") and not app.config.get("TESTING"):
        out = Path(app.instance_path) / "static_build"
        try:
            count = build_static(root, out)
            if count:
                log.info("static files built: %d into %s", count, out)
            root = out
        except OSError:
            log.exception("could not build compressed static files; serving %s uncompressed", root)

    max_age = int(app.config.get("STATIC_MAX_AGE", 31_536_000))
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = max_age  # the Flask fallback route caches alike

    from .security import CSP

    def _headers(headers, path, url):
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Content-Security-Policy"] = CSP
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        headers["X-Frame-Options"] = "SAMEORIGIN"

    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app,
        root=str(root),
        prefix="static/",
        max_age=max_age,
        add_headers_function=_headers,
    )

    @app.url_defaults
    def _static_version(endpoint, values):
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = file_version(static_folder, values["filename"])
            if version:
                values["v"] = version
