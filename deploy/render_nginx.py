#!/usr/bin/env python3
"""Render deploy/nginx.conf: fill its ${FER_...} placeholders and print a complete nginx.conf.

  python deploy/render_nginx.py --upstream 127.0.0.1:8000 --listen 80                 # plain HTTP
  python deploy/render_nginx.py --upstream 10.0.0.5:8000 --upstream 10.0.0.6:8000 \\
      --server-name fer.example.org --listen 80 --tls-listen 443 \\
      --tls-cert /etc/ssl/fer.pem --tls-key /etc/ssl/fer.key --out /etc/fer/nginx.conf

The body caps come from the same variables as the site's (FER_MAX_REQUEST_MB, 1000 by default, or
twice FER_MAX_UPLOAD_MB; FER_MAX_FORM_KB, 1000), so the proxy and daphne refuse the same requests.
Standard library only: it runs without the virtual environment.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf"
SAFE = re.compile(r"^[A-Za-z0-9._:\[\]/*-]+$")     # no spaces, quotes, semicolons or braces in a value


def _safe(value: str, what: str) -> str:
    if not SAFE.match(value):
        raise SystemExit(f"render_nginx: {what} {value!r} has characters nginx would misread")
    return value


UPLOAD_PATHS = Path(__file__).resolve().parent.parent / "emotion" / "web" / "upload_paths.txt"


def upload_paths_regex(path: Path = UPLOAD_PATHS) -> str:
    """The site's upload paths as one anchored regular expression, read from the file the site reads."""
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    regex = "^(?:" + "|".join(lines) + ")$"
    if any(c in regex for c in '"{};\n'):
        raise SystemExit(f"render_nginx: an upload path in {path} has characters nginx would misread")
    return regex


def render(upstreams, listen=("80",), server_name="_", tls_listen=(), tls_cert=None, tls_key=None,
           client_timeout=20, max_request_mb=None, max_form_kb=None, template: Path = TEMPLATE) -> str:
    if not upstreams:
        raise SystemExit("render_nginx: give at least one --upstream HOST:PORT (where daphne listens)")
    if tls_listen and not (tls_cert and tls_key):
        raise SystemExit("render_nginx: --tls-listen needs --tls-cert and --tls-key")
    upload_mb = float(os.environ.get("FER_MAX_UPLOAD_MB", 500))
    if max_request_mb is None:
        max_request_mb = float(os.environ.get("FER_MAX_REQUEST_MB", 2 * upload_mb))
    if max_form_kb is None:
        max_form_kb = float(os.environ.get("FER_MAX_FORM_KB", 1000))
    listen_lines = [f"        listen {_safe(str(p), 'listen')};" for p in listen]
    listen_lines += [f"        listen {_safe(str(p), 'TLS listen')} ssl;" for p in tls_listen]
    if tls_listen:
        listen_lines += [f"        ssl_certificate {_safe(str(tls_cert), 'certificate')};",
                         f"        ssl_certificate_key {_safe(str(tls_key), 'key')};",
                         "        ssl_protocols TLSv1.2 TLSv1.3;",
                         "        ssl_session_cache shared:fer_tls:10m;"]
    values = {
        "FER_UPSTREAM_SERVERS": "\n".join(f"        server {_safe(u, 'upstream')} max_fails=1 fail_timeout=10s;"
                                          for u in upstreams),
        "FER_LISTEN": "\n".join(listen_lines),
        "FER_SERVER_NAME": " ".join(_safe(n, "server name") for n in server_name.split()),
        "FER_MAX_REQUEST_BYTES": str(int(max_request_mb * 1_000_000)),
        "FER_MAX_FORM_BYTES": str(int(max_form_kb * 1000)),
        "FER_CLIENT_TIMEOUT": str(int(client_timeout)),
        "FER_UPLOAD_PATHS": upload_paths_regex(),
    }
    text = template.read_text()
    missing = sorted(set(re.findall(r"\$\{(FER_[A-Z_]+)\}", text)) - set(values))
    if missing:
        raise SystemExit(f"render_nginx: the template has placeholders this script does not fill: {missing}")
    return re.sub(r"\$\{(FER_[A-Z_]+)\}", lambda m: values[m.group(1)], text)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--upstream", action="append", default=[], help="daphne's HOST:PORT (repeat for several)")
    p.add_argument("--listen", action="append", default=None, help="plain HTTP port or ADDR:PORT (default 80)")
    p.add_argument("--server-name", default="_", help="host names served (default: any)")
    p.add_argument("--tls-listen", action="append", default=[], help="HTTPS port or ADDR:PORT")
    p.add_argument("--tls-cert", help="certificate chain (PEM)")
    p.add_argument("--tls-key", help="private key (PEM)")
    p.add_argument("--client-timeout", type=int, default=20,
                   help="seconds for a client's header, and the longest pause in its body or our reply (20)")
    p.add_argument("--out", help="write here instead of standard output")
    a = p.parse_args(argv)
    text = render(a.upstream, a.listen or ["80"], a.server_name, a.tls_listen, a.tls_cert, a.tls_key, a.client_timeout)
    if a.out:
        Path(a.out).write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
