#!/usr/bin/python3
"""A misbehaving front for a real docker-registry, for testing registry clients.

It listens on 127.0.0.1:PORT and forwards /v2/ requests to the upstream registry, optionally:
  --auth bearer   answers 401 with a Bearer challenge unless the request carries a token it issued;
                  its /token endpoint issues tokens for HTTP Basic USER:PASSWORD (GET) or for an
                  OAuth2 refresh-token grant with --identity-token (POST)
  --auth basic    answers 401 with a Basic challenge unless the request carries USER:PASSWORD
  --cut-blobs N   cuts the connection halfway through the first N blob downloads
  --no-range      drops Range headers (the upstream then sends whole blobs)
  --redirect-blobs  answers blob requests with a 307 to http://localhost:PORT/_blobstore/...
                  (another origin), served without authentication
  --stall-blobs   sends the headers and half of each blob, then stalls
  --fail-first N  answers the first N /v2/ requests with 503 and an OCI error body
GET /_proxy/stats returns counters as JSON, so tests can see what the client did.

Python standard library only. Stopped by its PID (SIGTERM); it holds no state on disk.
"""

import argparse
import base64
import http.client
import http.server
import json
import re
import secrets
import socket
import sys
import threading
import time
import urllib.parse

FORWARDED_HEADERS = ("Content-Type", "Docker-Content-Digest", "Content-Range", "Accept-Ranges",
                     "Docker-Distribution-Api-Version", "Etag", "Location")
REPO_RE = re.compile(r"^/v2/(.+?)/(manifests|blobs|tags)/")


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.tokens = set()
        self.stats = {"requests": 0, "range_requests": 0, "cuts": 0, "token_requests": 0,
                      "tokens_issued": 0, "refused": 0, "failures_sent": 0, "blobstore_requests": 0,
                      "blobstore_with_auth": 0, "stalls": 0, "last_scope": "", "last_service": ""}
        self.cuts_left = args.cut_blobs

    def bump(self, key, n=1):
        with self.lock:
            self.stats[key] += n

    def take_cut(self):
        with self.lock:
            if self.cuts_left <= 0:
                return False
            self.cuts_left -= 1
            self.stats["cuts"] += 1
            return True

    def take_failure(self):
        with self.lock:
            if self.stats["failures_sent"] >= self.args.fail_first:
                return False
            self.stats["failures_sent"] += 1
            return True


def make_handler(state):
    args = state.args

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            sys.stderr.write("proxy: " + (fmt % a) + "\n")

        def send_json(self, status, doc, extra=()):
            body = json.dumps(doc).encode()
            self.send_response(status)
            for k, v in extra:
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self):
            self.handle_any()

        def do_GET(self):
            self.handle_any()

        def do_POST(self):
            self.handle_any()

        def handle_any(self):
            path = self.path
            if path == "/_proxy/stats":
                with state.lock:
                    self.send_json(200, dict(state.stats))
                return
            if path.startswith("/token"):
                self.handle_token()
                return
            if path.startswith("/_blobstore/"):
                state.bump("blobstore_requests")
                if self.headers.get("Authorization"):
                    state.bump("blobstore_with_auth")
                self.forward(path[len("/_blobstore"):], is_blob=False)
                return
            if not path.startswith("/v2/"):
                self.send_json(404, {"errors": [{"code": "NOT_FOUND", "message": "no such endpoint"}]})
                return
            state.bump("requests")
            if args.fail_first and state.take_failure():
                self.send_json(503, {"errors": [{"code": "UNAVAILABLE",
                                                 "message": "registry is warming up"}]})
                return
            if not self.authorized():
                state.bump("refused")
                self.send_json(401, {"errors": [{"code": "UNAUTHORIZED",
                                                 "message": "authentication required"}]},
                               [("WWW-Authenticate", self.challenge(path))])
                return
            is_blob = "/blobs/sha256:" in path
            if is_blob and args.redirect_blobs:
                self.send_response(307)
                self.send_header("Location", "http://localhost:%d/_blobstore%s" % (args.port, path))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.forward(path, is_blob)

        def challenge(self, path):
            if args.auth == "basic":
                return 'Basic realm="test-registry"'
            m = REPO_RE.match(path)
            scope = ',scope="repository:%s:pull"' % m.group(1) if m else ""
            return 'Bearer realm="http://127.0.0.1:%d/token",service="test-registry"%s' % (args.port, scope)

        def authorized(self):
            given = self.headers.get("Authorization", "")
            if args.auth == "none":
                return True
            if args.auth == "basic":
                want = "Basic " + base64.b64encode(("%s:%s" % (args.user, args.password)).encode()).decode()
                return given == want
            if not given.startswith("Bearer "):
                return False
            with state.lock:
                return given[len("Bearer "):] in state.tokens

        def handle_token(self):
            state.bump("token_requests")
            query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            ok = False
            if self.command == "POST":
                length = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                query.update(form)
                ok = (args.identity_token != "" and form.get("grant_type") == ["refresh_token"] and
                      form.get("refresh_token") == [args.identity_token])
            else:
                want = "Basic " + base64.b64encode(("%s:%s" % (args.user, args.password)).encode()).decode()
                ok = args.user != "" and self.headers.get("Authorization", "") == want
            with state.lock:
                state.stats["last_scope"] = (query.get("scope") or [""])[0]
                state.stats["last_service"] = (query.get("service") or [""])[0]
            if not ok:
                self.send_json(401, {"errors": [{"code": "UNAUTHORIZED", "message": "invalid credentials"}]})
                return
            token = secrets.token_hex(16)
            with state.lock:
                state.tokens.add(token)
                state.stats["tokens_issued"] += 1
            key = "access_token" if self.command == "POST" else "token"
            self.send_json(200, {key: token, "expires_in": args.token_ttl})

        def forward(self, path, is_blob):
            headers = {}
            for name in ("Accept", "Range"):
                value = self.headers.get(name)
                if value is None:
                    continue
                if name == "Range":
                    state.bump("range_requests")
                    if args.no_range:
                        continue
                headers[name] = value
            conn = http.client.HTTPConnection(args.upstream, timeout=30)
            conn.request(self.command, path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            self.send_response(resp.status)
            for name in FORWARDED_HEADERS:
                value = resp.getheader(name)
                if value is not None:
                    self.send_header(name, value)
            length = resp.getheader("Content-Length") if self.command == "HEAD" else str(len(body))
            self.send_header("Content-Length", length or "0")
            self.end_headers()
            if self.command == "HEAD":
                return
            whole = resp.status in (200, 206) and len(body) > 1 and is_blob
            if whole and args.stall_blobs:
                state.bump("stalls")
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                time.sleep(60)
                self.close_connection = True
                return
            if whole and state.take_cut():
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(body)

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upstream", required=True, help="host:port of the real registry")
    p.add_argument("--auth", choices=("none", "bearer", "basic"), default="none")
    p.add_argument("--user", default="")
    p.add_argument("--password", default="")
    p.add_argument("--identity-token", default="")
    p.add_argument("--token-ttl", type=int, default=300)
    p.add_argument("--cut-blobs", type=int, default=0)
    p.add_argument("--no-range", action="store_true")
    p.add_argument("--redirect-blobs", action="store_true")
    p.add_argument("--stall-blobs", action="store_true")
    p.add_argument("--fail-first", type=int, default=0)
    args = p.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(State(args)))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
