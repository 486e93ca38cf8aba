"""The reverse proxy of the production shape answers malformed HTTP in Chinese (issue 11, item 9).

gunicorn answers a request line over its limit or a broken header with an English "Bad Request"
that the app never sees. In production such requests stop at nginx (deploy/nginx-gdws.conf, shown
in the README), which answers with the Chinese pages in static/errors/. This test runs Debian's
nginx with that very configuration (TLS taken out, ports and paths made local) and sends it
broken requests over raw sockets. It needs /usr/sbin/nginx (`apt-get install nginx-light`).
"""
from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
HOST = "gdws.example.cn"

pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed (apt-get install nginx-light)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"deploy config no longer has {old!r}: update this test with it"
    return text.replace(old, new)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    """nginx on two local ports (80 → plain, 443 → plain), upstream a port nobody listens on."""
    tmp = tmp_path_factory.mktemp("nginx")
    plain, main, dead = _free_port(), _free_port(), _free_port()
    errors = _replace((DEPLOY / "nginx-errors.conf").read_text(), "root /srv/gdws/static;", f"root {ROOT / 'static'};")
    (tmp / "errors.conf").write_text(errors)
    site = (DEPLOY / "nginx-gdws.conf").read_text()
    site = re.sub(r"^\s*ssl_certificate(_key)? .*\n", "", site, flags=re.M)
    for old, new in (("listen 443 ssl http2;", f"listen 127.0.0.1:{main};"),
                     ("listen 443 ssl default_server;", f"listen 127.0.0.1:{main} default_server;"),
                     ("listen 80 default_server;", f"listen 127.0.0.1:{plain} default_server;"),
                     ("listen 80;", f"listen 127.0.0.1:{plain};"),
                     ("server 127.0.0.1:8000;", f"server 127.0.0.1:{dead};"),
                     ("/etc/nginx/snippets/gdws-errors.conf", str(tmp / "errors.conf"))):
        site = _replace(site, old, new)
    (tmp / "site.conf").write_text(site)
    temp_paths = "".join(f"{kind}_temp_path {tmp / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # Started as root, nginx's worker would run as ``nobody`` and could not read the error pages
    # of a checkout in a private directory (a 0700 home or ``mktemp -d``): run it as ourselves.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    (tmp / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {tmp / 'nginx.pid'};\nerror_log {tmp / 'error.log'};\nevents {{}}\n"
        f"http {{\ninclude /etc/nginx/mime.types;\naccess_log off;\n{temp_paths}include {tmp / 'site.conf'};\n}}\n")
    check = subprocess.run([NGINX, "-t", "-p", str(tmp), "-c", str(tmp / "nginx.conf")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"],
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", main), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.1)
    yield main
    proc.terminate()
    proc.wait(timeout=20)


def _send(port: int, raw: bytes) -> tuple[int, str]:
    """Send raw bytes; return the status code and the body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body.decode("utf-8", "replace")


def _request(line: str, *headers: str, body: bytes = b"") -> bytes:
    return (line + "\r\n" + "".join(h + "\r\n" for h in (f"Host: {HOST}", "Connection: close", *headers))
            + "\r\n").encode("latin-1") + body


@pytest.mark.parametrize("raw, status, words", [
    (_request("GET /" + "a" * 10_000 + " HTTP/1.1"), 414, "网址过长"),
    (_request("GET / HTTP/1.1", "Cookie: session=" + "x" * 10_000), 400, "请求无效"),
    (b"THIS IS NOT HTTP\r\n\r\n", 400, "请求无效"),
    (_request("GET / HTTP/1.1", "Bad Header Without Colon"), 400, "请求无效"),
    (_request("POST /account/login HTTP/1.1", "Content-Length: 9000000", "Content-Type: text/plain"), 413, "上传内容过大"),
    (_request("GET / HTTP/1.1").replace(HOST.encode(), b"evil.example"), 400, "请求无效"),
    (_request("GET / HTTP/1.1"), 502, "服务暂时不可用"),  # gunicorn not answering
])
def test_malformed_requests_are_answered_in_chinese(proxy, raw, status, words):
    got, body = _send(proxy, raw)
    assert got == status
    assert words in body and '<html lang="zh-CN">' in body
    assert "Bad Request" not in body and "nginx" not in body


def test_error_pages_are_complete_and_chinese():
    for page in sorted((ROOT / "static" / "errors").glob("*.html")):
        html = page.read_text(encoding="utf-8")
        assert '<html lang="zh-CN">' in html and '<meta charset="utf-8">' in html, page
        assert "<script" not in html and "style=" not in html, page  # CSP-clean like every page


def test_readme_shows_the_deploy_files_as_they_are():
    """The README's production section shows the nginx and systemd files verbatim."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("nginx-gdws.conf", "nginx-errors.conf", "nginx-gdws-machines.conf", "gdws-web.service",
                 "gdws-search.service", "gdws.env.example"):
        assert (DEPLOY / name).read_text(encoding="utf-8").strip() in readme, f"README does not show deploy/{name}"


def test_load_balancer_upstream_is_valid_nginx(tmp_path):
    """deploy/nginx-gdws-machines.conf (N machines) replaces the site's upstream block: nginx accepts it."""
    site = (DEPLOY / "nginx-gdws.conf").read_text()
    site = re.sub(r"upstream gdws \{.*?\n\}\n", "", site, count=1, flags=re.S)
    site = re.sub(r"^\s*ssl_certificate(_key)? .*\n", "", site, flags=re.M)
    for old, new in (("listen 443 ssl http2;", "listen 127.0.0.1:1;"), ("listen 443 ssl default_server;", "listen 127.0.0.1:2;"),
                     ("listen 80 default_server;", "listen 127.0.0.1:3 default_server;"), ("listen 80;", "listen 127.0.0.1:3;"),
                     ("/etc/nginx/snippets/gdws-errors.conf", str(DEPLOY / "nginx-errors.conf"))):
        site = _replace(site, old, new)
    (tmp_path / "site.conf").write_text((DEPLOY / "nginx-gdws-machines.conf").read_text() + site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{\ninclude {tmp_path / 'site.conf'};\n}}\n")
    check = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
