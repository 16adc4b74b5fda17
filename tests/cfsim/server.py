"""HTTP(S) front end of the simulator: the request pipeline and the Simulator.

Pipeline for an API request:
    read body -> admin? -> fault -> rate limit -> route -> auth -> handler
    -> envelope -> (fault rewrite) -> log and counters -> triggers
Only loopback addresses are served.  Every wait is bounded (socket timeouts,
delay faults interrupted by shutdown) so stop() always returns promptly.
"""

import collections
import datetime
import http.server
import ipaddress
import json
import secrets
import shutil
import socket
import socketserver
import ssl
import struct
import sys
import tempfile
import threading
import time
import traceback
from urllib.parse import parse_qs, urlsplit

from . import api, auth
from .admin import ADMIN_PREFIX, AdminApi, AdminError
from .counters import RequestCounters
from .errors import ApiError, PAYLOAD_TOO_LARGE, RATE_LIMITED
from .faults import FaultBook
from .ratelimit import RateLimiter
from .secondary import Transfers
from .state import Store
from .tlsca import make_ca_and_server_cert

DEFAULT_TOKEN = "cfsim-test-token"
DEFAULT_EMAIL = "cfsim@example.com"
DEFAULT_KEY = "0123456789abcdef0123456789abcdef01234"   # 37 hex, like a global key
LOG_MAX = 20000
IDLE_TIMEOUT = 10.0       # an idle keep-alive connection is closed after this
HTML_PAGE = ("<html>\r\n<head><title>{status} Bad Gateway</title></head>\r\n<body>\r\n"
             "<center><h1>{status} Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>"
             "\r\n</body>\r\n</html>\r\n")


class RequestLog:
    """API requests as tests inspect them; never holds a credential value."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items = collections.deque(maxlen=LOG_MAX)
        self.seq = 0

    def add(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.items.append(entry)

    def entries(self, since=0):
        with self.lock:
            return [dict(e) for e in self.items if e["seq"] > since]

    def clear(self):
        with self.lock:
            self.items.clear()


class ApiRequest:
    def __init__(self, method, path, query, headers, body, client_ip):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.client_ip = client_ip


class _Disconnect(Exception):
    """The fault already dealt with the socket; send nothing more."""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cloudflare"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    # Headers and body go out in two writes: with Nagle's algorithm the body
    # of every answer on a kept-alive connection waits for the client's
    # delayed ACK (40 ms on Linux), a latency of this simulator, not of the
    # API, that would make a client reusing its connections look slow.
    disable_nagle_algorithm = True

    def do_GET(self):
        self.server.sim.handle(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def version_string(self):
        return "cloudflare"

    def log_message(self, fmt, *args):
        if self.server.sim.verbose:
            sys.stderr.write("cfsim: " + (fmt % args) + "\n")


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, addr, sim, ssl_context, family):
        self.address_family = family
        self.sim = sim
        self.ssl_context = ssl_context
        self.open_sockets = set()
        self.threads = set()
        self.sockets_lock = threading.Lock()
        super().__init__(addr, Handler)

    def get_request(self):
        sock, addr = super().get_request()
        if self.ssl_context is not None:
            # Handshake lazily in the connection's own thread, so a silent
            # client cannot stall the accept loop.
            sock = self.ssl_context.wrap_socket(sock, server_side=True,
                                                do_handshake_on_connect=False)
        return sock, addr

    def process_request(self, request, client_address):
        # One thread per connection, tracked so stop() can wait for them.
        thread = threading.Thread(target=self._connection_thread,
                                  args=(request, client_address),
                                  name="cfsim-conn", daemon=True)
        with self.sockets_lock:
            self.open_sockets.add(request)
            self.threads.add(thread)
        thread.start()

    def _connection_thread(self, request, client_address):
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self.sockets_lock:
                self.threads.discard(threading.current_thread())

    def shutdown_request(self, request):
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        # TLS handshake failures and clients vanishing are normal in fault tests.
        if self.sim.verbose:
            traceback.print_exc()

    def close_all_connections(self, timeout=5.0):
        """Shut every open connection and wait (bounded) for its thread."""
        with self.sockets_lock:
            socks = list(self.open_sockets)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        with self.sockets_lock:
            threads = list(self.threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Simulator:
    """A running Cloudflare API simulator (start() / stop(), or a with-block)."""

    def __init__(self, host="127.0.0.1", port=0, tls=False, cert_dir=None, tokens=None,
                 legacy=None, options=None, rate_limit=None, zones=None, verbose=False):
        if not _is_loopback(host):
            raise ValueError("cfsim listens on loopback addresses only")
        self.host = "127.0.0.1" if host == "localhost" else host
        self.requested_port = port
        self.tls = tls
        self.verbose = verbose
        self._own_cert_dir = None
        self.cert_dir = cert_dir
        self.ca_file = None
        # What reset() restores.
        self.initial = {
            "tokens": [DEFAULT_TOKEN] if tokens is None else list(tokens),
            "legacy": [(DEFAULT_EMAIL, DEFAULT_KEY)] if legacy is None else list(legacy),
            "options": dict(options or {}),
            "rate_limit": dict(rate_limit or {}),
            "zones": list(zones or []),
        }
        self.limiter = RateLimiter()
        self.faults = FaultBook()
        self.log = RequestLog()
        self.counters = RequestCounters()
        # API requests being handled right now (not answered yet): id -> entry.
        self.in_flight = {}
        self.in_flight_lock = threading.Lock()
        self.trigger_errors = []
        self.stop_event = threading.Event()
        self.store = None
        self.reset()
        self.api = api.CloudflareApi(self.store)
        self.admin = AdminApi(self)
        self.transfers = Transfers(self)
        self.httpd = None
        self.thread = None

    # --- lifecycle -------------------------------------------------------------
    def reset(self):
        """Back to the initial configuration: zones, tokens, options, faults, log."""
        init = self.initial
        store = Store(init["options"])
        for tok in init["tokens"]:
            if isinstance(tok, dict):
                tok = dict(tok)
                store.add_token(tok.pop("token"), **tok)
            else:
                store.add_token(tok)
        for email, key in init["legacy"]:
            store.add_legacy(email, key)
        for zone in init["zones"]:
            spec = {"name": zone} if isinstance(zone, str) else dict(zone)
            store.create_zone(spec.pop("name"), **spec)
        if self.store is None:
            self.store = store
        else:
            with self.store.lock:
                # Keep the same Store object (handlers hold references to it).
                self.store.__dict__.update({k: v for k, v in store.__dict__.items()
                                            if k != "lock"})
        rl = init["rate_limit"]
        self.limiter.configure(rl.get("limit", 1200), rl.get("window", 300),
                               rl.get("block_seconds"), rl.get("count_rejected", True))
        self.faults.clear()
        self.log.clear()
        self.counters.reset()
        self.trigger_errors = []

    def start(self):
        ctx = None
        if self.tls:
            if self.cert_dir is None:
                self._own_cert_dir = self.cert_dir = tempfile.mkdtemp(prefix="cfsim-tls-")
            paths = make_ca_and_server_cert(self.cert_dir)
            self.ca_file = paths["ca"]
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(paths["cert"], paths["key"])
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.httpd = _Server((self.host, self.requested_port), self, ctx, family)
        self.stop_event.clear()
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       name="cfsim-server", daemon=True)
        self.thread.start()
        self.transfers.start(self.host)
        return self

    def stop(self):
        if self.httpd is None:
            return
        self.stop_event.set()            # wakes delay faults
        self.transfers.stop()
        self.httpd.shutdown()            # stops the accept loop
        self.httpd.close_all_connections()
        self.httpd.server_close()
        self.thread.join(timeout=5)
        self.httpd = None
        if self._own_cert_dir:
            shutil.rmtree(self._own_cert_dir, ignore_errors=True)
            self._own_cert_dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self.httpd.server_address[1]

    @property
    def scheme(self):
        return "https" if self.tls else "http"

    @property
    def root_url(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def base_url(self):
        return self.root_url + api.API_PREFIX

    @property
    def admin_url(self):
        return self.root_url + ADMIN_PREFIX

    def describe(self):
        return {"host": self.host, "port": self.port, "scheme": self.scheme,
                "root_url": self.root_url, "base_url": self.base_url,
                "admin_url": self.admin_url, "ca_file": self.ca_file,
                "notify_port": self.transfers.notify_port}

    # --- request pipeline -----------------------------------------------------------
    def handle(self, h):
        method = h.command
        parts = urlsplit(h.path)
        path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        try:
            body = self._read_body(h)
        except ApiError as err:
            h.close_connection = True
            self._send_json(h, err.status, _failure(err), {})
            return
        except (OSError, ValueError):
            h.close_connection = True
            return

        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            status, obj = self.admin.handle(method, path, query, body)
            self._send_json(h, status, obj, {})
            return

        req = ApiRequest(method, path, query, h.headers, body, h.client_address[0])
        entry = {"time": _now(), "method": method, "path": path, "query": query,
                 "auth": auth.auth_kind(h.headers), "body": _body_for_log(body),
                 "fault": None, "status": None, "error_codes": [], "rate_limited": False}
        h.cfsim_pending = (req, entry)
        with self.in_flight_lock:
            self.in_flight[id(h)] = {"time": entry["time"], "method": method, "path": path}
        try:
            self._pipeline(h, req, entry)
        except _Disconnect:
            pass
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            h.close_connection = True
        finally:
            self._commit(h)
            with self.in_flight_lock:
                self.in_flight.pop(id(h), None)

    def requests_in_flight(self):
        """API requests received and not answered yet (a delay fault, a slow
        handler), oldest first; the log only has them once answered."""
        with self.in_flight_lock:
            return sorted((dict(e) for e in self.in_flight.values()), key=lambda e: e["time"])

    def _commit(self, h):
        """Log the request and fire its triggers, once, before the first byte of
        the answer goes out: a client that has its answer can rely on both."""
        pending = getattr(h, "cfsim_pending", None)
        if pending is None:
            return
        h.cfsim_pending = None
        req, entry = pending
        self.log.add(entry)
        self.counters.add(entry, self.store)
        for trig in self.faults.due_triggers(req.method, req.path):
            self._run_trigger(trig)

    def _pipeline(self, h, req, entry):
        fault = self.faults.take_fault(req.method, req.path)
        if fault is not None:
            entry["fault"] = fault.kind
            if fault.kind == "delay":
                if self.stop_event.wait(fault.delay):
                    self._close(h, reset=False)      # shutting down: abandon it
            elif not fault.apply:
                self._send_fault(h, fault, None, entry)
                return

        allowed, rl_headers = self.limiter.check(auth.credential_key(req.headers, req.client_ip))
        if not allowed:
            entry["rate_limited"] = True
            err = ApiError(429, RATE_LIMITED, self.limiter.message())
            status, envelope = 429, _failure(err)
        else:
            status, envelope = self._process(req, entry)
        entry["status"] = status
        entry["error_codes"] = [e["code"] for e in envelope.get("errors", [])]
        if fault is not None and fault.kind != "delay":
            self._send_fault(h, fault, (status, envelope, rl_headers), entry)
            return
        self._send_json(h, status, envelope, rl_headers)

    def _process(self, req, entry):
        try:
            route = api.resolve(req.method, req.path)
            with self.store.lock:
                if route.name == "verify":
                    result, messages = auth.verify_token(req.headers, self.store)
                    return 200, _success(result, None, messages)
                principal = auth.authenticate(req.headers, self.store)
                if principal.token is not None:
                    entry["token_id"] = principal.token.id
                result, info, messages = self.api.handle(route, req, principal)
            return 200, _success(result, info, messages)
        except ApiError as err:
            return err.status, _failure(err)
        except Exception:   # a simulator bug must show up as a 500, not a hang
            traceback.print_exc()
            return 500, _failure(ApiError(500, 10001, "Internal simulator error"))

    # --- I/O helpers ----------------------------------------------------------------
    def _read_body(self, h):
        limit = self.store.options["max_body"]
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks, total = [], 0
            for _ in range(1_000_000):          # bounded: at most a million chunks
                size = int(h.rfile.readline(100).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    for _ in range(100):        # trailers end with an empty line
                        if h.rfile.readline(8192) in (b"\r\n", b"\n", b""):
                            break
                    break
                total += size
                if total > limit:
                    raise ApiError(413, PAYLOAD_TOO_LARGE, "Request body too large")
                chunks.append(h.rfile.read(size))
                h.rfile.readline(10)
            return b"".join(chunks)
        length = int(h.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > limit:
            raise ApiError(413, PAYLOAD_TOO_LARGE, "Request body too large")
        return h.rfile.read(length) if length else b""

    def _send_json(self, h, status, obj, headers, content_type="application/json"):
        body = json.dumps(obj).encode("utf-8")
        self._send_raw(h, status, body, headers, content_type)

    def _send_raw(self, h, status, body, headers, content_type, declared_length=None):
        self._commit(h)
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body) if declared_length is None
                                            else declared_length))
        h.send_header("cf-ray", secrets.token_hex(8) + "-SIM")
        for key, value in headers.items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()

    def _send_fault(self, h, fault, processed, entry):
        """Answer with the fault; `processed` is (status, envelope, rl_headers)
        when the request went through for real first."""
        kind = fault.kind
        headers = dict(fault.headers)
        if kind == "status":
            code, message = fault.code, fault.message
            if fault.status == 429:
                if not fault.code_given:
                    code, message = RATE_LIMITED, self.limiter.message()
                headers.setdefault("retry-after", "60")
            entry["status"] = fault.status
            entry["error_codes"] = [code]
            self._send_json(h, fault.status, _failure(ApiError(fault.status, code, message)),
                            headers)
        elif kind == "malformed_json":
            entry["status"] = 200
            self._send_raw(h, 200, b'{"success":true,"errors":[],"messages":[],"result":[{"id":',
                           headers, "application/json")
        elif kind == "html":
            entry["status"] = fault.status
            page = HTML_PAGE.format(status=fault.status).encode()
            self._send_raw(h, fault.status, page, headers, "text/html")
        elif kind == "empty":
            entry["status"] = 200
            self._send_raw(h, 200, b"", headers, "application/json")
        elif kind == "wrong_types":
            status, envelope, rl_headers = processed
            entry["status"] = status
            self._send_json(h, status, _mangle(envelope), {**rl_headers, **headers})
        elif kind == "truncated":
            if processed:
                status, envelope, _ = processed
            else:
                status, envelope = 200, _success([], _empty_info(), [])
            body = json.dumps(envelope).encode()
            body += b" " * max(0, 64 - len(body))   # always something to cut
            entry["status"] = status
            self._send_raw(h, status, body[:len(body) // 2], headers, "application/json",
                           declared_length=len(body))
            self._close(h, reset=False)
        elif kind == "oversized":
            entry["status"] = 200
            self._send_oversized(h, fault.size, headers)
        elif kind in ("drop", "reset"):
            self._close(h, reset=(kind == "reset"))

    def _send_oversized(self, h, size, headers):
        head = b'{"success":true,"errors":[],"messages":[],"result":[],"padding":"'
        tail = b'"}'
        pad = max(0, size - len(head) - len(tail))
        self._commit(h)
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(head) + pad + len(tail)))
        for key, value in headers.items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(head)
        block = b"x" * 65536
        while pad > 0 and not self.stop_event.is_set():
            n = min(pad, len(block))
            h.wfile.write(block[:n])
            pad -= n
        h.wfile.write(tail)
        h.wfile.flush()

    def _close(self, h, reset):
        self._commit(h)
        h.close_connection = True
        try:
            h.wfile.flush()
        except OSError:
            pass
        conn = h.connection
        try:
            if reset:
                # SO_LINGER with a zero timeout turns close() into a TCP RST.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            conn.close()
        except OSError:
            pass
        raise _Disconnect()

    def _run_trigger(self, trig):
        a = dict(trig.action)
        op = a.pop("op")
        zone = a.pop("zone", None)
        try:
            with self.store.lock:
                if op == "add_record":
                    body = dict(a.get("record", {}))
                    body["validate"] = a.get("validate", True)
                    self.admin.add_record(body, {}, zone=zone)
                elif op == "delete_record":
                    self.admin.delete_record({}, {}, zone=zone, record=a["id"])
                elif op == "patch_record":
                    self.admin.patch_record(a.get("fields", {}), {}, zone=zone, record=a["id"])
                elif op == "zsk_rollover":
                    self.admin.zsk_rollover({"step": a.get("step")}, {}, zone=zone)
                elif op == "set_dnssec":
                    self.admin.set_dnssec(a.get("fields", {}), {}, zone=zone)
        except (AdminError, ApiError, ValueError, KeyError) as err:
            self.trigger_errors.append({"trigger": trig.id, "error": str(err)})


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _success(result, info, messages):
    env = {"result": result, "success": True, "errors": [], "messages": messages}
    if info is not None:
        env["result_info"] = info
    return env


def _failure(err):
    return {"result": None, "success": False, "errors": err.errors(), "messages": []}


def _empty_info():
    return {"page": 1, "per_page": 100, "count": 0, "total_count": 0, "total_pages": 1}


def _mangle(value):
    """Turn numbers and booleans into strings, the classic wrong-types bug."""
    if isinstance(value, dict):
        return {k: _mangle(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mangle(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _body_for_log(body):
    if not body:
        return None
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return body[:4096].decode("utf-8", "replace")
