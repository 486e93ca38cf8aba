"""Static files in production shape: WhiteNoise, long-lived caching, gzip, cache-busting URLs.

Why WhiteNoise: it answers ``/static/...`` in front of Flask (no session, no database, no
``after_request`` work per file), serves pre-compressed ``.gz`` variants with the right
``Vary``/``Content-Encoding``/``ETag`` headers and HEAD/Range support, and only ever serves files
it indexed at start (no path traversal). Flask's own static route stays as the fallback for files
added after start.

Caching: every ``url_for('static', filename=...)`` gets ``?v=<content hash>``, so the files can be
cached for a year (``STATIC_MAX_AGE``): a changed file gets a new URL. Reference static files
only through ``url_for`` (templates) so they carry the version.

Compression happens at build time, not when a worker starts: ``flask --app app build-static``
(run by ``make serve`` and by a deployment after each release) copies ``static/`` into
``<instance>/static_build`` and compresses it there with WhiteNoise's own compressor. The build
records a fingerprint of the sources (every file's path, size and modification time); the app
serves the build only while that fingerprint still matches ``static/``, so an edited file is
never answered from a stale compressed copy (it is served uncompressed until the next build).
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
from pathlib import Path

import click
from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

log = logging.getLogger(__name__)

FINGERPRINT = ".source-fingerprint"

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


def source_fingerprint(source: Path) -> str:
    """A digest of every file's relative path, size and modification time under ``source``."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith(".")):
        st = path.stat()
        digest.update(f"{path.relative_to(source)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def build_static(source: Path, out: Path) -> int:
    """Copy ``source`` into ``out`` afresh and add a ``.gz`` variant of every file that WhiteNoise's
    compressor finds worth it; return the number of compressed files. Built beside ``out`` and
    swapped in, so a running server never sees half a build."""
    fresh = out.with_name(out.name + f".new-{os.getpid()}")
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(source, fresh, ignore=shutil.ignore_patterns(".*"))
    compressor = Compressor(quiet=True)
    compressed = 0
    for path in sorted(p for p in fresh.rglob("*") if p.is_file()):
        if compressor.should_compress(path.name):
            compressed += len(compressor.compress(str(path)))
    (fresh / FINGERPRINT).write_text(source_fingerprint(source))
    old = out.with_name(out.name + f".old-{os.getpid()}")
    if out.exists():
        out.rename(old)
    fresh.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    return compressed


def static_root(app: Flask) -> Path:
    """The folder WhiteNoise serves: the build when it matches the sources, else ``static/``."""
    source = Path(app.static_folder or "static")
    build = Path(app.instance_path) / "static_build"
    try:
        built_from = (build / FINGERPRINT).read_text().strip()
    except OSError:
        built_from = ""
    if built_from and built_from == source_fingerprint(source):
        return build
    if app.config.get("PRODUCTION"):
        log.info("static files served uncompressed: run `flask --app app build-static` (%s)",
                    "the build is out of date" if built_from else "no build")
    return source


def init_app(app: Flask) -> None:
    """Put WhiteNoise in front of the app and version every ``url_for('static', ...)`` URL."""
    static_folder = app.static_folder or "static"
    root = static_root(app)

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

    @app.cli.command("build-static")
    def build_static_command():
        """Copy static/ into the instance folder with gzip variants (WhiteNoise's compressor)."""
        out = Path(app.instance_path) / "static_build"
        count = build_static(Path(static_folder), out)
        click.echo(f"静态文件已构建：{out}（压缩 {count} 个文件）")
