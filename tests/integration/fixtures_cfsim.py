"""pytest fixtures for the Cloudflare API simulator (tests/cfsim).

    from fixtures_cfsim import *      # in conftest.py

Fixtures:
    cfsim          a fresh simulator over HTTP, in this process (CfsimHandle)
    cfsim_tls      the same over HTTPS; .ca_file is the throwaway CA to trust
    cfsim_factory  make(tls=False, subprocess=False, **Simulator kwargs) for
                   more instances, custom options or a separate process
The handle talks to the simulator only over HTTP (API and /__admin), so it
works the same for in-process and subprocess simulators.
"""

import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

TESTS_DIR = Path(__file__).resolve().parent.parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from cfsim import DEFAULT_EMAIL, DEFAULT_KEY, DEFAULT_TOKEN, Simulator  # noqa: E402

PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
# A copy of the contract (Cloudflare's published OpenAPI schema and the ZSK
# list example) ships with the tests, so that no checkout skips the schema check.
REFERENCE_DIR = Path(os.environ.get("CFSIM_REFERENCE_DIR")
                     or TESTS_DIR / "data" / "reference")
START_TIMEOUT = 20.0

__all__ = ["cfsim", "cfsim_tls", "cfsim_factory", "CfsimHandle", "CfsimProcess",
           "CfsimAdminError", "Response", "DEFAULT_TOKEN", "DEFAULT_EMAIL", "DEFAULT_KEY",
           "REFERENCE_DIR"]


class CfsimAdminError(AssertionError):
    def __init__(self, status, body):
        super().__init__(f"cfsim admin call failed: {status} {body}")
        self.status = status
        self.body = body


class Response:
    """One HTTP exchange: status, headers (case-insensitive), raw body, JSON."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError):
            self.json = None

    @property
    def result(self):
        return self.json["result"]

    @property
    def error_codes(self):
        return [e["code"] for e in (self.json or {}).get("errors", [])]

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


class CfsimHandle:
    """Where a simulator listens, which credentials it accepts, and helpers.

    Attributes: base_url (…/client/v4, what a Cloudflare client is given),
    root_url, admin_url, host, port, scheme, ca_file (None over HTTP),
    token, email, api_key, sim (the Simulator when in-process, else None).
    """

    def __init__(self, root_url, ca_file=None, token=DEFAULT_TOKEN, email=DEFAULT_EMAIL,
                 api_key=DEFAULT_KEY, sim=None):
        parts = urlsplit(root_url)
        self.root_url = root_url
        self.base_url = root_url + "/client/v4"
        self.admin_url = root_url + "/__admin"
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.ca_file = ca_file
        self.token = token
        self.email = email
        self.api_key = api_key
        self.sim = sim

    @classmethod
    def for_simulator(cls, sim):
        return cls(sim.root_url, sim.ca_file, sim=sim)

    # --- raw HTTP ---------------------------------------------------------------
    def _connection(self, timeout):
        if self.scheme == "https":
            ctx = ssl.create_default_context(cafile=self.ca_file)
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def http(self, method, path, body=None, headers=None, timeout=10.0):
        """Send one request (new connection) and read the whole answer."""
        conn = self._connection(timeout)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
            elif isinstance(body, str):
                body = body.encode()
            hdrs = {"Content-Type": "application/json"} if body is not None else {}
            hdrs.update(headers or {})
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, resp.headers, data)
        finally:
            conn.close()

    def auth_headers(self, auth="bearer", token=None):
        if auth == "bearer":
            return {"Authorization": f"Bearer {token or self.token}"}
        if auth == "email_key":
            return {"X-Auth-Email": self.email, "X-Auth-Key": self.api_key}
        return {}

    def api(self, method, path, body=None, query=None, auth="bearer", token=None,
            headers=None, timeout=10.0):
        """Call the Cloudflare API; path is relative to /client/v4."""
        full = "/client/v4" + path
        if query:
            full += "?" + urlencode(query)
        hdrs = self.auth_headers(auth, token)
        hdrs.update(headers or {})
        return self.http(method, full, body, hdrs, timeout)

    def get(self, path, **kw):
        return self.api("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.api("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.api("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.api("PATCH", path, body, **kw)

    def delete(self, path, body=None, **kw):
        return self.api("DELETE", path, body, **kw)

    def admin(self, method, path, body=None, query=None):
        full = "/__admin" + path
        if query:
            full += "?" + urlencode(query)
        resp = self.http(method, full, body if body is not None else None)
        if resp.status != 200:
            raise CfsimAdminError(resp.status, resp.json or resp.body)
        return resp.json

    # --- admin helpers ----------------------------------------------------------
    def create_zone(self, name="example.com", **kw):
        """kw: type, status, name_servers, id, dnssec {status, dnssec_multi_signer, ...},
        dns_settings {multi_provider, ...}.  Returns the zone (with its id)."""
        return self.admin("POST", "/zones", {"name": name, **kw})

    def zone(self, zone):
        return self.admin("GET", f"/zones/{zone}")

    def list_zones(self, page=None, per_page=None):
        """Zones in creation order (all of them without paging) and result_info."""
        return self._paged("/zones", page, per_page)

    def served_all(self, page=None, per_page=None):
        """served() of many zones at once: [{id, name, dnskey, ns, dnssec_status}]."""
        return self._paged("/served", page, per_page)

    def _paged(self, path, page, per_page):
        query = {k: v for k, v in (("page", page), ("per_page", per_page)) if v is not None}
        out = self.admin("GET", path, query=query or None)
        return out["zones"], out["result_info"]

    def counters(self):
        """API requests per zone name ('' for none): {since, total, zones: {name:
        {requests, reads, writes, rate_limited, failed}}}."""
        return self.admin("GET", "/counters")

    def clear_counters(self):
        return self.admin("DELETE", "/counters")

    def records(self, zone):
        return self.admin("GET", f"/zones/{zone}/records")["records"]

    def add_record(self, zone, record, validate=True):
        return self.admin("POST", f"/zones/{zone}/records", {**record, "validate": validate})

    def patch_record(self, zone, record_id, **fields):
        return self.admin("PATCH", f"/zones/{zone}/records/{record_id}", fields)

    def delete_record(self, zone, record_id):
        return self.admin("DELETE", f"/zones/{zone}/records/{record_id}")

    def set_dnssec(self, zone, **fields):
        """status (any of active, pending, disabled, pending-disabled, error),
        dnssec_multi_signer, dnssec_presigned, dnssec_use_nsec3."""
        return self.admin("PATCH", f"/zones/{zone}/dnssec", fields)

    def set_dns_settings(self, zone, **fields):
        return self.admin("PATCH", f"/zones/{zone}/dns_settings", fields)

    def keys(self, zone):
        """{"ksk": {...}, "zsks": [{..., "tag"}]}: key_tag, public_key, dnskey,
        ds (KSK), private_key_pem, private_key_b64, bind_private."""
        return self.admin("GET", f"/zones/{zone}/keys")

    def zsk_rollover(self, zone, step=None, private_key_pem=None):
        """step: publish, activate, remove, immediate, or None for the next one;
        private_key_pem: the new key (PKCS#8 P-256) instead of a fresh one."""
        body = {} if step is None else {"step": step}
        if private_key_pem is not None:
            body["private_key_pem"] = private_key_pem
        return self.admin("POST", f"/zones/{zone}/zsk/rollover", body)

    def add_raw_zsk(self, zone, tag="publish", **fields):
        """List a ZSK entry of exactly these DNSKEY fields (flags, algorithm,
        protocol, public_key: any string), with no real key behind it, as a
        faulty Cloudflare might. Returns its key tag (over the given bytes)."""
        return self.admin("POST", f"/zones/{zone}/zsk", {"tag": tag, **fields})["key_tag"]

    def set_zsk_tag(self, zone, key_tag, tag):
        return self.admin("POST", f"/zones/{zone}/zsk/{key_tag}", {"tag": tag})

    def served(self, zone):
        """What Cloudflare would serve: {"dnskey": [...text...], "ns": [...]}."""
        return self.admin("GET", f"/zones/{zone}/served")

    # --- secondary zones ----------------------------------------------------------
    def notify_port(self):
        """The UDP port (on the simulator's host) that takes NOTIFY."""
        return self.admin("GET", "/notify")["port"]

    def set_secondary(self, zone, primary=None, transfers_paused=None):
        """A secondary zone's primary ([host, port], loopback) and whether
        transfers are held back (NOTIFYs are still answered and counted)."""
        body = {k: v for k, v in (("primary", primary), ("transfers_paused", transfers_paused))
                if v is not None}
        return self.admin("PATCH", f"/zones/{zone}/secondary", body)

    def pull(self, zone):
        """Transfer now (IXFR, else AXFR); returns the secondary view with ok."""
        return self.admin("POST", f"/zones/{zone}/secondary/pull", {})

    def set_config(self, **options):
        return self.admin("PATCH", "/config", options)["options"]

    def set_page_size(self, default, maximum=None):
        opts = {"records_per_page": default}
        if maximum is not None:
            opts["records_max_per_page"] = maximum
        return self.set_config(**opts)

    def set_rate_limit(self, limit, window, block_seconds=None, count_rejected=True):
        return self.admin("POST", "/ratelimit", {"limit": limit, "window": window,
                                                 "block_seconds": block_seconds,
                                                 "count_rejected": count_rejected})

    def reset_rate_limit(self):
        return self.admin("POST", "/ratelimit/reset")

    def add_token(self, token, permissions=None, status="active", zones=None, **kw):
        body = {"token": token, "status": status, **kw}
        if permissions is not None:
            body["permissions"] = list(permissions)
        if zones is not None:
            body["zones"] = list(zones)
        return self.admin("POST", "/tokens", body)

    def revoke_token(self, token):
        return self.admin("POST", "/tokens/revoke", {"token": token})

    def update_token(self, token, **fields):
        return self.admin("POST", "/tokens/update", {"token": token, **fields})

    def add_fault(self, kind, **spec):
        """kind: status, delay, malformed_json, truncated, html, wrong_types,
        oversized, empty, drop, reset.  spec: method, path (regex), count,
        duration, status, code, message, delay, size, headers, retry_after, apply."""
        return self.admin("POST", "/faults", {"kind": kind, **spec})["id"]

    def clear_faults(self):
        return self.admin("DELETE", "/faults")

    def add_trigger(self, action, method=None, path=None, after=1, count=1):
        """Run `action` (op: add_record, delete_record, patch_record, zsk_rollover,
        set_dnssec; plus zone and op arguments) after the after-th matching request."""
        spec = {"action": action, "after": after, "count": count}
        if method:
            spec["method"] = method
        if path:
            spec["path"] = path
        return self.admin("POST", "/triggers", spec)["id"]

    def log(self, since=0):
        return self.admin("GET", "/log", query={"since": since})["entries"]

    def in_flight(self):
        """API requests received and not answered yet: [{time, method, path}]."""
        return self.admin("GET", "/in_flight")["requests"]

    def clear_log(self):
        return self.admin("DELETE", "/log")

    def reset(self):
        return self.admin("POST", "/reset")


class CfsimProcess:
    """The simulator in its own process (python3 -m cfsim); stop() ends it."""

    def __init__(self, tls=False, tokens=None, extra_args=(), workdir=None):
        self.workdir = workdir or tempfile.mkdtemp(prefix="cfsim-proc-")
        self.ready_file = os.path.join(self.workdir, "ready.json")
        args = [PYTHON, "-m", "cfsim", "--port", "0", "--ready-file", self.ready_file]
        if tls:
            args += ["--tls", "--cert-dir", self.workdir]
        for tok in tokens or [DEFAULT_TOKEN]:
            args += ["--token", tok]
        args += list(extra_args)
        env = dict(os.environ, PYTHONPATH=str(TESTS_DIR))
        self.stderr = open(os.path.join(self.workdir, "stderr.log"), "wb")
        self.proc = subprocess.Popen(args, cwd=str(TESTS_DIR), env=env,
                                     stdout=subprocess.DEVNULL, stderr=self.stderr)
        self.info = self._wait_ready()
        self.handle = CfsimHandle(self.info["root_url"], self.info["ca_file"],
                                  token=(tokens or [DEFAULT_TOKEN])[0].split("=")[0])

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if os.path.exists(self.ready_file):
                with open(self.ready_file) as fh:
                    return json.load(fh)
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"cfsim process did not become ready; see {self.stderr.name}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.stderr.close()
        return self.proc.returncode


@pytest.fixture
def cfsim_factory():
    started = []

    def make(tls=False, subprocess=False, **kw):
        if subprocess:
            proc = CfsimProcess(tls=tls, **kw)
            started.append(proc.stop)
            return proc.handle
        sim = Simulator(tls=tls, **kw).start()
        started.append(sim.stop)
        return CfsimHandle.for_simulator(sim)

    yield make
    for stop in reversed(started):
        stop()


@pytest.fixture
def cfsim():
    with Simulator() as sim:
        yield CfsimHandle.for_simulator(sim)


@pytest.fixture
def cfsim_tls():
    with Simulator(tls=True) as sim:
        yield CfsimHandle.for_simulator(sim)
