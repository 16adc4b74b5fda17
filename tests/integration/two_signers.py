"""Two real signers and real validating resolvers: the harness of test_validation.py.

    signer A  knotd with mod-multisigner: signs example.com with its own keys
              and keeps Cloudflare (the simulator) in step, as in test_sync*.py
    signer B  a second knotd that stands in for Cloudflare's nameservers: it
              signs the same zone content with the simulator's own KSK and
              ZSKs (PKCS#8 PEM from the admin API, keymgr import-pem, policy
              `manual: on`); cfsim.signer_bridge.SignerBridge mirrors the
              simulator into it every BRIDGE_INTERVAL s: Cloudflare's ZSK
              states (publish / active / retired / removed), the DNSKEY records
              made through the API (our exported ZSKs, as public-only keys) and
              the apex NS Cloudflare serves
    resolvers three unbound processes from Debian, validating, with trust
              anchors for BOTH KSKs (the DS of A's and of the simulator's):
                mix  stub-addr A and stub-addr B: unbound picks either server
                     for every upstream query (equal loopback RTTs)
                AB   through a splitting proxy: DNSKEY queries go to A, all
                     other queries to B
                BA   the other way round
              AB and BA force the multi-signer case on every answer: the
              DNSKEY RRset of one signer must validate the data of the other.
              val-max-restart 0: a bogus answer is not retried at the other
              server, so a single inconsistency shows as SERVFAIL.
    querier   a thread that asks every resolver in turn, with the DO bit, for
              SOA, NS, DNSKEY, A, AAAA, TXT, a NODATA name and fresh
              NXDOMAIN names, and counts per phase: answers (right RCODE and
              AD set), SERVFAIL, bogus (SERVFAIL with a DNSSEC extended error),
              insecure (no AD), wrong RCODE and timeouts; unbound's own
              "validation failure" log lines are counted per phase too

Time is compressed by the resolvers: cache-max-ttl RESOLVER_TTL_CAP caps every
TTL they see (Cloudflare's DNSKEY TTL of 60 s included), so TTL_K and TTL_sig
as the resolvers see them are RESOLVER_TTL_CAP. Everything runs on loopback;
unbound refuses every name outside the zone and sends from 127.0.0.1 only.
Every wait is bounded; stop() ends every process and thread it started.
"""
import collections
import os
import re
import shutil
import signal
import socket
import socketserver
import struct
import subprocess
import threading
import time

import dns.dnssec
import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from cfsim.signer_bridge import SignerBridge
from knot_instance import KnotInstance, free_port, wait_until
from sync_helpers import (CF_DNSKEY_TTL, CHECK_INTERVAL, EXPORT_LIMIT, MARGIN, ZONE, Key,
                          fast_zone_text, rollover_bounds)

UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"
UNBOUND_CHECKCONF = shutil.which("unbound-checkconf") or "/usr/sbin/unbound-checkconf"

RESOLVER_TTL_CAP = 10        # cache-max-ttl of the resolvers: their TTL_K and TTL_sig
BRIDGE_INTERVAL = 0.5        # the bridge polls the simulator this often
# From our new ZSK in knotd A to the same key in signer B's DNSKEY RRset: the
# module's export (EXPORT_LIMIT), one bridge poll, keymgr + zone-keys-load.
BRIDGE_LAG = EXPORT_LIMIT + BRIDGE_INTERVAL + 0.5
# Rule 3 is kept by the module's rollover gate (it holds a new ZSK until
# Cloudflare has served it for TTL_K, 60 s here), not by propagation-delay. But
# the gate can only push activation propagation-delay + dnskey-ttl ahead (a
# publish time in the future would unpublish the key), and it re-holds once
# per pass: that horizon must outlast one check interval plus one pass's API
# latency (10 s), or knotd activates between two passes. Measured with 1 s
# (horizon 11 s): one local rollover in eight signed 31.5 s after B had the key.
# MS_VALIDATION_PROPAGATION_DELAY=1 reproduces that.
# Before the gate, this had to be RESOLVER_TTL_CAP + BRIDGE_LAG (13 s).
API_LATENCY = 10
PROPAGATION_DELAY = int(os.environ.get("MS_VALIDATION_PROPAGATION_DELAY")
                        or CHECK_INTERVAL + API_LATENCY - 10)      # - A's dnskey-ttl
# B serves a key Cloudflare has at most this much later (one poll, keymgr,
# zone-keys-load): the slack allowed when rule 3 is checked at B.
BRIDGE_SLACK = BRIDGE_INTERVAL + 1.0
IMPORT_MARGIN = 3.0          # a new Cloudflare ZSK is in knotd A within one interval + this
# How long "Cloudflare" pre-publishes a new ZSK before it signs with it: it does
# not wait for us (rule 4), so this is fixed: the module's import bound plus a
# whole TTL_K (as the resolvers see it) plus slack.
CF_PREPUBLISH = CHECK_INTERVAL + IMPORT_MARGIN + RESOLVER_TTL_CAP + 2

POLICY_A = {
    "algorithm": "ecdsap256sha256",
    "dnskey-ttl": "10",
    "zone-max-ttl": "10",
    "propagation-delay": str(PROPAGATION_DELAY),
    "zsk-lifetime": "1h",
    "ksk-lifetime": "0",
}
POLICY_B = {                  # Cloudflare's stand-in: never generates or rolls keys
    "algorithm": "ecdsap256sha256",
    "manual": "on",
    "dnskey-ttl": str(CF_DNSKEY_TTL),
    "zone-max-ttl": "10",
    "cds-cdnskey-publish": "none",
}
EXTRA_RECORDS = ("h1 A 192.0.2.11\nh2 A 192.0.2.12\nh3 AAAA 2001:db8::13\n"
                 'txt TXT "two signers"\n')
DNSSEC_EDE = set(range(1, 13))   # EDE codes 1-12: DNSSEC failures (RFC 8914)

NOERROR, NXDOMAIN, SERVFAIL = dns.rcode.NOERROR, dns.rcode.NXDOMAIN, dns.rcode.SERVFAIL
# (owner, type, expected RCODE, answer expected); "nx" is a fresh name each time
QUERIES = [
    ("@", "SOA", NOERROR, True), ("www", "A", NOERROR, True), ("nx", "A", NXDOMAIN, False),
    ("@", "DNSKEY", NOERROR, True), ("mail", "AAAA", NOERROR, True),
    ("www", "AAAA", NOERROR, False), ("@", "NS", NOERROR, True), ("h1", "A", NOERROR, True),
    ("nx", "AAAA", NXDOMAIN, False), ("h2", "A", NOERROR, True), ("txt", "TXT", NOERROR, True),
    ("h3", "AAAA", NOERROR, True), ("nx", "TXT", NXDOMAIN, False),
]
OUTCOMES = ("answers", "servfail", "bogus", "insecure", "wrong", "timeout")


def zone_text_a():
    return fast_zone_text() + EXTRA_RECORDS


def zone_text_b(ns):
    """Signer A's zone content with Cloudflare's SOA and apex NS."""
    body = [ln for ln in zone_text_a().splitlines()
            if not re.match(r"^@\s+(SOA|NS)\s", ln) and not ln.startswith("$")]
    head = [f"$ORIGIN {ZONE}.", "$TTL 10",
            f"@ SOA {ns[0]} dns.cloudflare.com. 1 10000 2400 604800 10"]
    return "\n".join(head + [f"@ NS {n}" for n in ns] + body) + "\n"


# ---- DNS observation of one signer ------------------------------------------------------
def signer_answer(port, rdtype, name=ZONE):
    """(rrset, rrsig rrset) from a signer's listener over TCP; (None, None) if silent."""
    rdtype = dns.rdatatype.RdataType.make(rdtype)
    q = dns.message.make_query(name, rdtype, want_dnssec=True)
    try:
        msg = dns.query.tcp(q, "127.0.0.1", port=port, timeout=2)
    except (OSError, dns.exception.DNSException):
        return None, None
    found = sig = None
    for rrset in msg.answer:
        if rrset.rdtype == rdtype:
            found = rrset
        elif rrset.rdtype == dns.rdatatype.RRSIG and rrset.covers == rdtype:
            sig = rrset
    return found, sig


def signer_keys(port):
    rrset = signer_answer(port, "DNSKEY")[0]
    return set() if rrset is None else {Key.from_rdata(rd) for rd in rrset}


def signer_soa_tags(port):
    sig = signer_answer(port, "SOA")[1]
    return set() if sig is None else {rd.key_tag for rd in sig}


def signer_ns(port):
    rrset = signer_answer(port, "NS")[0]
    return set() if rrset is None else {rd.target.to_text(omit_final_dot=True).lower()
                                       for rd in rrset}


# ---- the splitting proxy ----------------------------------------------------------------
def _qtype(wire):
    i = 12
    while wire[i]:
        i += wire[i] + 1
    return struct.unpack("!H", wire[i + 1:i + 3])[0]


class SplitProxy:
    """A DNS forwarder on 127.0.0.1 (UDP and TCP) that sends DNSKEY queries to
    one signer and every other query to the other. It forwards bytes unchanged."""

    def __init__(self, name, dnskey_port, other_port):
        self.name = name
        self.dnskey_port = dnskey_port
        self.other_port = other_port
        self.counts = collections.Counter()       # (backend port, qtype text) -> n
        self.dnskey_times = []                    # monotonic time of each DNSKEY query
        self.lock = threading.Lock()
        self.udp = self.tcp = None
        self.threads = []

    def backend(self, wire):
        qtype = _qtype(wire)
        port = self.dnskey_port if qtype == dns.rdatatype.DNSKEY else self.other_port
        with self.lock:
            self.counts[(port, dns.rdatatype.to_text(qtype))] += 1
            if qtype == dns.rdatatype.DNSKEY:
                self.dnskey_times.append(time.monotonic())
        return port

    def start(self):
        proxy = self

        class Udp(socketserver.BaseRequestHandler):
            def handle(self):
                data, sock = self.request
                try:
                    port = proxy.backend(data)
                    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as up:
                        up.settimeout(2.0)
                        up.sendto(data, ("127.0.0.1", port))
                        answer = up.recv(65535)
                    sock.sendto(answer, self.client_address)
                except (OSError, IndexError, struct.error):
                    pass                      # the resolver times out and retries

        class Tcp(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.settimeout(5.0)
                try:
                    while True:
                        head = _recv_exact(self.request, 2)
                        if head is None:
                            return
                        data = _recv_exact(self.request, struct.unpack("!H", head)[0])
                        if data is None:
                            return
                        port = proxy.backend(data)
                        with socket.create_connection(("127.0.0.1", port), timeout=2.0) as up:
                            up.sendall(head + data)
                            ahead = _recv_exact(up, 2)
                            answer = _recv_exact(up, struct.unpack("!H", ahead)[0])
                        self.request.sendall(ahead + answer)
                except (OSError, TypeError, IndexError, struct.error):
                    return

        class UdpServer(socketserver.ThreadingUDPServer):
            daemon_threads = True

        class TcpServer(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        for _ in range(20):
            port = free_port()
            try:
                self.udp = UdpServer(("127.0.0.1", port), Udp)
                self.tcp = TcpServer(("127.0.0.1", port), Tcp)
                break
            except OSError:
                for srv in (self.udp, self.tcp):
                    if srv is not None:
                        srv.server_close()
                self.udp = self.tcp = None
        if self.udp is None:
            raise RuntimeError("no port for the splitting proxy")
        self.port = port
        for srv in (self.udp, self.tcp):
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2},
                                 name=f"proxy-{self.name}", daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def stop(self):
        for srv in (self.udp, self.tcp):
            if srv is not None:
                srv.shutdown()
                srv.server_close()
        for t in self.threads:
            t.join(5)

    def summary(self, names):
        with self.lock:
            out = collections.Counter()
            for (port, qtype), n in self.counts.items():
                out[(names.get(port, port), qtype)] += n
        return dict(out)


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


# ---- unbound -----------------------------------------------------------------------------
LOG_LINE = re.compile(r"^\[(\d+)\] unbound\[\d+:\d+\] (\w+): (.*)$")


class Unbound:
    def __init__(self, workdir, name, stub_addrs, trust_anchors, zone=ZONE):
        self.name = name
        self.dir = os.path.join(os.path.abspath(workdir), f"unbound-{name}")
        os.makedirs(self.dir, exist_ok=True)
        self.stub_addrs = list(stub_addrs)
        self.trust_anchors = list(trust_anchors)
        self.zone = zone
        self.port = free_port()
        self.proc = None

    @property
    def conf_path(self):
        return os.path.join(self.dir, "unbound.conf")

    @property
    def log_path(self):
        return os.path.join(self.dir, "unbound.log")

    def render_conf(self):
        cap = RESOLVER_TTL_CAP
        lines = [
            "server:",
            f"  interface: 127.0.0.1@{self.port}",
            "  outgoing-interface: 127.0.0.1",
            "  do-ip6: no",
            "  do-not-query-localhost: no",
            "  access-control: 127.0.0.0/8 allow",
            '  username: ""',
            '  chroot: ""',
            f'  directory: "{self.dir}"',
            f'  pidfile: "{self.dir}/unbound.pid"',
            "  use-syslog: no",
            f'  logfile: "{self.log_path}"',
            "  log-time-ascii: no",
            "  verbosity: 1",
            "  val-log-level: 2",
            "  log-servfail: yes",
            "  ede: yes",
            "  num-threads: 1",
            '  module-config: "validator iterator"',
            f"  cache-max-ttl: {cap}",
            f"  cache-max-negative-ttl: {cap}",
            "  val-bogus-ttl: 1",
            "  val-max-restart: 0",
            "  aggressive-nsec: no",
            "  qname-minimisation: no",
            "  prefetch: no",
            "  prefetch-key: no",
            "  serve-expired: no",
            "  harden-referral-path: no",
            '  target-fetch-policy: "0 0 0 0 0"',
            "  trust-anchor-signaling: no",
            "  root-key-sentinel: no",
            # loopback only: every name outside the zone is refused locally
            '  local-zone: "." refuse',
            f'  local-zone: "{self.zone}." transparent',
        ]
        lines += [f'  trust-anchor: "{ta}"' for ta in self.trust_anchors]
        lines += ["stub-zone:", f'  name: "{self.zone}."', "  stub-prime: no"]
        lines += [f"  stub-addr: {addr}" for addr in self.stub_addrs]
        return "\n".join(lines) + "\n"

    def start(self, timeout=15):
        with open(self.conf_path, "w") as f:
            f.write(self.render_conf())
        r = subprocess.run([UNBOUND_CHECKCONF, self.conf_path], capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError(f"unbound-checkconf {self.conf_path}: {r.stdout}{r.stderr}")
        self.stderr = open(os.path.join(self.dir, "unbound.stderr"), "w")
        self.proc = subprocess.Popen([UNBOUND, "-d", "-c", self.conf_path],
                                     stdout=self.stderr, stderr=subprocess.STDOUT)

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError(f"unbound {self.name} exited with {self.proc.returncode}:"
                                   f"\n{self.read_log()}")
            try:
                q = dns.message.make_query("localhost.", "A")
                dns.query.udp(q, "127.0.0.1", port=self.port, timeout=0.5)
                return True
            except (OSError, dns.exception.DNSException):
                return False
        wait_until(up, timeout, interval=0.1, what=f"unbound {self.name} answering")
        return self

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.stderr.close()

    def read_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_events(self):
        """[(epoch, kind, text)]: kind "bogus" (validation failure) or "servfail"."""
        out = []
        for line in self.read_log().splitlines():
            m = LOG_LINE.match(line)
            if not m:
                continue
            text = m.group(3)
            if text.startswith("validation failure"):
                out.append((int(m.group(1)), "bogus", text))
            elif "SERVFAIL" in text:
                out.append((int(m.group(1)), "servfail", text))
        return out


# ---- the querier --------------------------------------------------------------------------
class Phase:
    def __init__(self, name, resolvers):
        self.name = name
        self.t0 = time.time()
        self.m0 = time.monotonic()
        self.t1 = self.m1 = None
        self.counts = {r.name: collections.Counter() for r in resolvers}
        self.examples = []                # first failures, for the report

    @property
    def seconds(self):
        return (self.m1 or time.monotonic()) - self.m0

    def total(self, outcome):
        return sum(c[outcome] for c in self.counts.values())


class Querier:
    """Asks every resolver in turn, forever until stopped (at most max_seconds)."""

    def __init__(self, resolvers, max_seconds, pause=0.03, timeout=3.0):
        self.resolvers = resolvers
        self.max_seconds = max_seconds
        self.pause = pause
        self.timeout = timeout
        self.phase = None
        self.seq = 0
        self._stop = threading.Event()
        self._thread = None
        self.crash = None

    def start(self, phase):
        self.phase = phase
        self._thread = threading.Thread(target=self._run, name="querier", daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.timeout + 5)

    def _run(self):
        deadline = time.monotonic() + self.max_seconds
        i = 0
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                owner, rtype, want_rcode, want_answer = QUERIES[i % len(QUERIES)]
                for r in self.resolvers:
                    self.ask(r, owner, rtype, want_rcode, want_answer)
                i += 1
                self._stop.wait(self.pause)
        except Exception as e:           # reported by the harness
            self.crash = e

    def ask(self, resolver, owner, rtype, want_rcode, want_answer):
        self.seq += 1
        if owner == "nx":
            owner = f"nx-{self.seq}"
        name = ZONE + "." if owner == "@" else f"{owner}.{ZONE}."
        phase = self.phase
        q = dns.message.make_query(name, rtype, want_dnssec=True, use_edns=0, payload=1232)
        try:
            resp = dns.query.udp(q, "127.0.0.1", port=resolver.port, timeout=self.timeout,
                                 ignore_trailing=True)
            if resp.flags & dns.flags.TC:
                resp = dns.query.tcp(q, "127.0.0.1", port=resolver.port, timeout=self.timeout)
        except (OSError, dns.exception.DNSException) as e:
            outcome, detail = "timeout", type(e).__name__
        else:
            outcome, detail = classify(resp, rtype, want_rcode, want_answer)
        phase.counts[resolver.name][outcome] += 1
        if outcome == "bogus":
            phase.counts[resolver.name]["servfail"] += 1
        if outcome != "answers" and len(phase.examples) < 6:
            phase.examples.append(f"{time.strftime('%H:%M:%S')} {resolver.name} {name} {rtype}: "
                                  f"{outcome} {detail}")


def classify(resp, rtype, want_rcode, want_answer):
    rcode = resp.rcode()
    ede = [(o.code, o.text) for o in resp.options if isinstance(o, dns.edns.EDEOption)]
    if rcode == SERVFAIL:
        if any(code in DNSSEC_EDE for code, _ in ede):
            return "bogus", str(ede)
        return "servfail", str(ede)
    if rcode != want_rcode:
        return "wrong", dns.rcode.to_text(rcode)
    has = any(rr.rdtype == dns.rdatatype.from_text(rtype) for rr in resp.answer)
    if has != want_answer:
        return "wrong", f"answer present: {has}"
    if not resp.flags & dns.flags.AD:
        return "insecure", "no AD flag"
    return "answers", ""


# ---- the whole setup ----------------------------------------------------------------------
class TwoSigners:
    def __init__(self, pair, knot_b, workdir):
        self.pair = pair
        self.a = pair.knot
        self.b = knot_b
        self.cf = pair.cf
        self.workdir = workdir
        self.bridge = SignerBridge(self.cf, ZONE, keymgr=self.b.keymgr, knotc=self.b.knotc,
                                   workdir=os.path.join(workdir, "bridge"),
                                   interval=BRIDGE_INTERVAL, dnskey_ttl=CF_DNSKEY_TTL,
                                   ns_ttl=10)
        self.proxies = []
        self.resolvers = []
        self.querier = None
        self.phases = []

    # -- start and stop --
    def start(self, max_seconds, import_ours=True):
        pair = self.pair
        pair.wait(pair.keys_in_step, pair.keys_timeout,
                  "the module's first sync: our ZSK at Cloudflare, Cloudflare's in knotd")
        self.b.write_conf()
        if not import_ours:
            self.bridge.public_import_delay = None
        ns = self.bridge.prime()
        with open(self.b.zones[ZONE]["file"], "w") as f:
            f.write(zone_text_b([n.rstrip(".") + "." for n in ns]))
        self.b.start()
        want = pair.cf_served_zsks() | (pair.our_zsks() if import_ours else set())
        pair.wait(lambda: self.b_keys() >= want, 15, "signer B serving the ZSKs")
        self.bridge.start()

        (ksk_a,) = pair.local_ksks()
        ds_a = dns.dnssec.make_ds(ZONE + ".", ksk_a.rdata, "SHA256")
        ds_b = self.cf.keys(ZONE)["ksk"]["ds"].split(None, 3)[3]    # "DS tag 13 2 HEX"
        anchors = [f"{ZONE}. DS {ds_a.to_text()}", f"{ZONE}. {ds_b}"]
        addr_a, addr_b = f"127.0.0.1@{self.a.port}", f"127.0.0.1@{self.b.port}"
        p_ab = SplitProxy("AB", self.a.port, self.b.port).start()
        p_ba = SplitProxy("BA", self.b.port, self.a.port).start()
        self.proxies = [p_ab, p_ba]
        self.resolvers = [
            Unbound(self.workdir, "mix", [addr_a, addr_b], anchors),
            Unbound(self.workdir, "AB", [f"127.0.0.1@{p_ab.port}"], anchors),
            Unbound(self.workdir, "BA", [f"127.0.0.1@{p_ba.port}"], anchors),
        ]
        for r in self.resolvers:
            r.start()
        self.querier = Querier(self.resolvers, max_seconds)
        self.phases = [Phase("setup", self.resolvers)]
        self.querier.start(self.phases[0])
        return self

    def stop(self):
        errors = []
        for step in ([self.querier.stop] if self.querier else []) + \
                [r.stop for r in self.resolvers] + [p.stop for p in self.proxies] + \
                [self.bridge.stop, self.b.stop]:
            try:
                step()
            except Exception as e:       # stop everything, then report
                errors.append(e)
        if self.phases and self.phases[-1].m1 is None:
            self.end_phase()
        if errors:
            raise errors[0]

    # -- phases --
    def phase(self, name):
        self.end_phase()
        p = Phase(name, self.resolvers)
        self.phases.append(p)
        self.querier.phase = p
        return p

    def end_phase(self):
        p = self.phases[-1]
        if p.m1 is None:
            p.t1, p.m1 = time.time(), time.monotonic()
        return p

    def run_for(self, seconds):
        """Let the querier run; fail early if it died."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.check_alive()
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def check_alive(self):
        if self.querier.crash is not None:
            raise self.querier.crash
        for proc, what in [(self.a.proc, "knotd A"), (self.b.proc, "knotd B")] + \
                [(r.proc, f"unbound {r.name}") for r in self.resolvers]:
            assert proc.poll() is None, f"{what} exited with {proc.returncode}"

    def log_counts(self, phase):
        """{resolver: {"bogus": n, "servfail": n}} from unbound's logs. Its time
        stamps are whole seconds: a line counts for the phase that holds the
        middle of its second (the client-side counts are exact)."""
        out = {}
        end = phase.t1 or time.time()
        for r in self.resolvers:
            c = collections.Counter()
            for epoch, kind, _ in r.log_events():
                if phase.t0 <= epoch + 0.5 < end:
                    c[kind] += 1
            out[r.name] = c
        return out

    def report(self):
        lines = [f"{'phase':<22} {'s':>5} {'resolver':<5} " +
                 " ".join(f"{o:>8}" for o in OUTCOMES) + f" {'log-bogus':>9} {'log-sf':>6}"]
        for p in self.phases:
            logs = self.log_counts(p)
            for r in self.resolvers:
                c = p.counts[r.name]
                lines.append(f"{p.name:<22} {p.seconds:5.1f} {r.name:<5} " +
                             " ".join(f"{c[o]:>8}" for o in OUTCOMES) +
                             f" {logs[r.name]['bogus']:>9} {logs[r.name]['servfail']:>6}")
            for ex in p.examples:
                lines.append(f"    e.g. {ex}")
        names = {self.a.port: "A", self.b.port: "B"}
        for p in self.proxies:
            lines.append(f"proxy {p.name} upstream queries: {p.summary(names)}")
        return "\n".join(lines)

    # -- observation --
    def a_keys(self):
        return self.pair.local_keys()

    def b_keys(self):
        return signer_keys(self.b.port)

    def b_soa_tags(self):
        return signer_soa_tags(self.b.port)

    def describe(self):
        lines = [self.pair.describe(),
                 "--- signer B serves DNSKEY: " + str(sorted(k.tag for k in self.b_keys())),
                 "    SOA signed by: " + str(sorted(self.b_soa_tags())),
                 "    NS: " + str(sorted(signer_ns(self.b.port))),
                 "--- bridge events (last 15): " + str([(round(t, 1), k, d) for t, k, d in
                                                        self.bridge.events[-15:]]),
                 "    bridge errors: " + str([e for _, e in self.bridge.errors[-3:]])]
        return "\n".join(lines)

    def watch(self, conditions, required, timeout, interval=0.1):
        """Poll named predicates together until all `required` have been true
        once; return {name: monotonic time first true} (None for the others)."""
        seen = {n: None for n in conditions}
        deadline = time.monotonic() + timeout
        while True:
            for n, pred in conditions.items():
                if seen[n] is None:
                    try:
                        ok = pred()
                    except (OSError, dns.exception.DNSException):
                        ok = False
                    if ok:
                        seen[n] = time.monotonic()
            if all(seen[n] is not None for n in required):
                return seen
            if time.monotonic() >= deadline:
                missing = [n for n in required if seen[n] is None]
                raise AssertionError(f"not within {timeout:.0f} s: {missing}\n{self.describe()}")
            self.check_alive()
            time.sleep(interval)

    # -- scenario steps --
    def local_rollover(self, label, check_rule3=True):
        """`knotc zone-key-rollover zsk` on A; returns timings (s) and keys."""
        pair = self.pair
        (old,) = pair.our_zsks()
        t0 = time.monotonic()
        pair.knot.knotc("zone-key-rollover", ZONE, "zsk")

        def new_key():
            new = pair.our_zsks() - {old}
            return next(iter(new)) if len(new) == 1 else None
        self.watch({"local": new_key}, ["local"], 5)
        new = new_key()
        w = self.watch({
            "cf": lambda: new in pair.cf_our_keys(),
            "b": lambda: new in self.b_keys(),
            "signs": lambda: new.tag in pair.soa_sig_tags(),
        }, ["cf", "b", "signs"] if check_rule3 else ["signs"],
            rollover_bounds(pair)["activation"] + MARGIN)
        t = {k: (w[k] - t0 if w[k] else None) for k in ("cf", "b", "signs")}
        print(f"[{label}] our new ZSK {new.tag}: at Cloudflare {fmt(t['cf'])} s, served by B "
              f"{fmt(t['b'])} s, signs at A {t['signs']:.1f} s after the rollover command")
        if check_rule3:
            # Rule 3 at the real TTL_K (60 s, Cloudflare's DNSKEY TTL), observed
            # at B, and at the resolvers' compressed TTL_K by the resolvers.
            window = w["signs"] - w["b"]
            print(f"[{label}] B served it {window:.1f} s before A signed with it "
                  f"(TTL_K {pair.ttl_k} s; the resolvers' TTL_K {RESOLVER_TTL_CAP} s)")
            assert window >= pair.ttl_k - BRIDGE_SLACK, \
                f"rule 3: A signed with {new.tag} {window:.1f} s after B served it, " \
                f"before TTL_K ({pair.ttl_k} s)\n{self.describe()}"
        return {"old": old, "new": new, "t0": t0, **t}

    def local_rollover_finish(self, r, label):
        """Wait for the old ZSK to leave A, Cloudflare and B."""
        pair, old = self.pair, r["old"]
        prop, maxttl = int(POLICY_A["propagation-delay"]), int(POLICY_A["zone-max-ttl"])
        w = self.watch({
            "a": lambda: old not in pair.local_zsks(),
            "cf": lambda: old not in pair.cf_our_keys(),
            "b": lambda: old not in self.b_keys(),
        }, ["a", "cf", "b"], r["signs"] + prop + maxttl + CHECK_INTERVAL + 2 * MARGIN
            - (time.monotonic() - r["t0"]))
        print(f"[{label}] our old ZSK {old.tag} left A {w['a'] - r['t0']:.1f} s, Cloudflare "
              f"{w['cf'] - r['t0']:.1f} s, B {w['b'] - r['t0']:.1f} s after the command")
        assert w["cf"] >= w["a"] - 0.5 and w["b"] >= w["a"] - 0.5, \
            "our old ZSK left Cloudflare/B before knotd dropped it"

    def cf_rollover(self, label):
        """Cloudflare's pre-publish ZSK rollover, paced like Cloudflare (it does
        not wait for us): publish, activate CF_PREPUBLISH s later, remove the old
        key once its signatures have expired from the resolvers' caches."""
        pair = self.pair
        before = {Key.from_sim_key(z) for z in self.cf.keys(ZONE)["zsks"]
                  if z["tag"] == "active"}
        (k1,) = before
        t0 = time.monotonic()
        keys = self.cf.zsk_rollover(ZONE, "publish")
        k2 = Key.from_sim_key(next(z for z in keys["zsks"] if z["tag"] == "publish"))
        w = self.watch({"b": lambda: k2 in self.b_keys(),
                        "a": lambda: k2 in pair.local_zsks()},
                       ["a", "b"], CHECK_INTERVAL + IMPORT_MARGIN + MARGIN)
        print(f"[{label}] Cloudflare's new ZSK {k2.tag}: served by B {w['b'] - t0:.1f} s, "
              f"by A {w['a'] - t0:.1f} s after Cloudflare published it")
        assert w["a"] - t0 <= CHECK_INTERVAL + IMPORT_MARGIN, \
            f"rule 4: the module imported {k2.tag} {w['a'] - t0:.1f} s after publication"
        self.run_for(t0 + CF_PREPUBLISH - time.monotonic())

        self.cf.zsk_rollover(ZONE, "activate")
        t_act = time.monotonic()
        s = self.watch({"signs": lambda: self.b_soa_tags() == {k2.tag}}, ["signs"], 5)
        print(f"[{label}] B signs with {k2.tag} {s['signs'] - t_act:.1f} s after activation, "
              f"{s['signs'] - w['a']:.1f} s after A first served it")
        assert s["signs"] - w["a"] >= RESOLVER_TTL_CAP
        assert k1 in self.b_keys() and k1 in pair.local_zsks(), "retired ZSK left too early"
        self.run_for(s["signs"] + RESOLVER_TTL_CAP + 2 - time.monotonic())

        self.cf.zsk_rollover(ZONE, "remove")
        t_rm = time.monotonic()
        g = self.watch({"b": lambda: k1 not in self.b_keys()}, ["b"], 5)
        print(f"[{label}] Cloudflare's old ZSK {k1.tag} left B {g['b'] - t_rm:.1f} s after "
              f"removal (knotd A keeps it for the module's hold time)")
        return {"k1": k1, "k2": k2}


def fmt(x):
    return "-" if x is None else f"{x:.1f}"


@pytest.fixture
def two_signers_factory(sync_pair_factory, sync_knot_factory, tmp_path):
    """make(max_seconds) -> a started TwoSigners; everything stopped afterwards."""
    made = []

    def make(max_seconds=300, import_ours=True):
        for tool in (UNBOUND, UNBOUND_CHECKCONF):
            if not os.path.exists(tool):
                pytest.fail(f"{tool} not found: run scripts/install-deps.sh (Debian's unbound)")
        pair = sync_pair_factory(policy=POLICY_A, text=zone_text_a(), foreign=False)
        b = KnotInstance(str(tmp_path), pair.knot.module_so, name="signer-b")
        b.with_module = False
        b.policy = dict(POLICY_B)
        b.add_zone(ZONE, module=None, text="")        # written by start(), from the bridge
        ts = TwoSigners(pair, b, str(tmp_path))
        made.append(ts)
        return ts.start(max_seconds, import_ours)

    yield make
    for ts in made:
        ts.stop()
