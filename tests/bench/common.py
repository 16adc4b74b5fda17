"""Shared parts of the benchmarks: many zones in one real knotd, the simulator
in its own process, what "in sync" means, and clean-up.

Reuses the integration helpers (tests/integration/knot_instance.py and
fixtures_cfsim.py) rather than copying them. Everything listens on loopback;
every wait is a bounded poll; every process started is stopped by Run.close(),
which run.py calls in a finally block (Ctrl-C and SIGTERM included).
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
SRCDIR = os.path.dirname(TESTS)
for p in (os.path.join(TESTS, "integration"), TESTS):
    if p not in sys.path:
        sys.path.insert(0, p)

import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

from fixtures_cfsim import CfsimProcess  # noqa: E402
from knot_instance import KNOTD, KnotInstance, wait_until, zone_text  # noqa: E402

CF_NAMESERVERS = ["kai.ns.cloudflare.com", "lia.ns.cloudflare.com"]
LOCAL_NAMESERVERS = ["ns1.example.net", "ns2.example.net"]
CF_DNSKEY_TTL = 60
PAGE = 1000                      # zones per admin page

# A policy for benchmarks: no automatic rollover during a run, and what the
# module's load-time checks ask for (no CDS, a propagation delay that covers
# the check interval and Cloudflare's DNSKEY TTL of up to an hour), so that
# 10,000 zones do not log 10,000 warnings.
def bench_policy(check_interval):
    return {
        "algorithm": "ecdsap256sha256",
        "dnskey-ttl": "60",
        "zone-max-ttl": "300",
        "propagation-delay": str(check_interval + 3600),
        "zsk-lifetime": "30d",
        "ksk-lifetime": "0",
        "cds-cdnskey-publish": "none",
    }


def zone_names(n):
    return [f"z{i:05d}.bench.test" for i in range(n)]


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---- knotd with many zones ---------------------------------------------------------
class BenchKnot(KnotInstance):
    """KnotInstance for thousands of zones: info-level logging (debug would
    write more than the benchmark measures), zone files under <dir>/zones so
    that a prepared directory can be copied, and a patient stop."""

    def __init__(self, workdir, module_so, name):
        super().__init__(workdir, module_so, name=name)
        os.makedirs(self.zone_dir, exist_ok=True)

    @property
    def zone_dir(self):
        return os.path.join(self.dir, "zones")

    def add_zones(self, names):
        for name in names:
            path = os.path.join(self.zone_dir, f"{name}.zone")
            with open(path, "w") as f:
                f.write(zone_text(name, tuple(n + "." for n in LOCAL_NAMESERVERS)))
            self.zones[name] = {"file": path, "module": "cf", "signed": True, "extra": ""}

    def render_conf(self):
        return super().render_conf().replace("    any: debug\n", "    any: info\n", 1)

    def adopt(self, other_dir):
        """Take over a copy of another instance's directory (keys, journal,
        zone files); paths in the config follow this instance's directory."""
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.copytree(other_dir, self.dir, symlinks=True,
                        ignore=shutil.ignore_patterns("*.log", "*.stderr", "knot.sock",
                                                      "knot.conf", "*.pid"))
        for name, z in self.zones.items():
            z["file"] = os.path.join(self.zone_dir, f"{name}.zone")

    def stop(self, timeout=120):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.knotc("stop", check=False)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def memory(self):
        """VmRSS and VmHWM of knotd, in KiB, and VmRSS split into RssAnon (the
        heap: knotd's and the module's) and RssFile (mapped files: knotd's
        journal and key database, libraries)."""
        out = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                    out[key] = int(value.split()[0])
        return out

    def cpu_seconds(self):
        """User + system CPU time knotd has used so far."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---- DNS to knotd, without dnspython's per-query socket churn ----------------------------
class Dns:
    """One UDP socket to knotd; sequential queries with a short timeout."""

    def __init__(self, port, timeout=1.0):
        self.addr = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(timeout)
        self.sock.connect(self.addr)

    def close(self):
        self.sock.close()

    def query(self, name, rdtype, dnssec=False):
        q = dns.message.make_query(name, rdtype, want_dnssec=dnssec, payload=4096)
        self.sock.send(q.to_wire())
        for _ in range(8):              # skip late answers to earlier queries
            try:
                data = self.sock.recv(65535)
            except socket.timeout:
                return None
            try:
                msg = dns.message.from_wire(data)
            except Exception:           # noqa: BLE001 - a garbled answer counts as none
                continue
            if msg.id == q.id:
                return msg
        return None

    def answers(self, name):
        """True once knotd answers authoritatively for the zone's SOA."""
        msg = self.query(name, "SOA")
        return (msg is not None and msg.rcode() == dns.rcode.NOERROR
                and bool(msg.flags & dns.flags.AA) and bool(msg.answer))

    def rrset_texts(self, name, rdtype):
        msg = self.query(name, rdtype)
        if msg is None or msg.rcode() != dns.rcode.NOERROR:
            return None
        want = dns.rdatatype.RdataType.make(rdtype)
        return [rd.to_text() for rrset in msg.answer if rrset.rdtype == want for rd in rrset]


# ---- what "in sync" means -----------------------------------------------------------------
def _zsks(dnskey_texts):
    """Flags-256 keys, as the base64 of the public key."""
    out = set()
    for t in dnskey_texts:
        parts = t.split()
        if "DNSKEY" in parts:                    # a zone-file line from the simulator
            parts = parts[parts.index("DNSKEY") + 1:]
        if parts and parts[0] == "256":
            out.add("".join(parts[3:]))
    return out


def _names(items):
    return {n.rstrip(".").lower() for n in items}


def zone_in_sync(served, dns_):
    """RFC 8901 model 2 in steady state: both providers serve the same ZSK set
    and the same NS set (each keeps its own KSK). served: the simulator's
    view of the zone; dns_: a Dns to knotd."""
    if served["dnssec_status"] not in ("active", "pending"):
        return False
    cf_zsks = _zsks(served["dnskey"])
    local = dns_.rrset_texts(served["name"], "DNSKEY")
    if local is None or not cf_zsks or _zsks(local) != cf_zsks:
        return False
    ns = dns_.rrset_texts(served["name"], "NS")
    return ns is not None and _names(ns) == _names(served["ns"]) \
        and set(CF_NAMESERVERS) <= _names(ns) and set(LOCAL_NAMESERVERS) <= _names(ns)


def served_pages(cf):
    page = 1
    while True:
        zones, info = cf.served_all(page=page, per_page=PAGE)
        yield from zones
        if page >= info["total_pages"]:
            return
        page += 1


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


# ---- the run: owns every process it starts ---------------------------------------------
class Run:
    def __init__(self, workdir, module_so):
        self.workdir = workdir
        self.module_so = module_so
        self.procs = []          # objects with .stop()
        self.made = 0            # simulators made: each gets its own directory
        os.makedirs(workdir, exist_ok=True)

    def simulator(self, limit, window):
        """The simulator in its own process (so it has its own interpreter lock),
        with a rate limit of `limit` requests per `window` seconds."""
        self.made += 1
        wd = os.path.join(self.workdir, f"cfsim{self.made}")
        os.makedirs(wd)
        sim = CfsimProcess(extra_args=["--rate-limit", str(limit), "--rate-window",
                                       str(window), "--option",
                                       f"dnskey_ttl={CF_DNSKEY_TTL}"],
                           workdir=wd)
        self.procs.append(sim)
        return sim.handle

    def knot(self, name):
        k = BenchKnot(self.workdir, self.module_so, name)
        self.procs.append(k)
        return k

    def stop(self, obj):
        obj.stop()
        if obj in self.procs:
            self.procs.remove(obj)

    def close(self):
        for p in reversed(self.procs):
            try:
                p.stop()
            except Exception as e:      # noqa: BLE001 - go on stopping the others
                log(f"stopping {p}: {e}")
        self.procs = []


def create_cf_zones(cf, names):
    t0 = time.monotonic()
    for name in names:
        cf.create_zone(name, name_servers=CF_NAMESERVERS)
    log(f"created {len(names)} zones at the simulator in {time.monotonic() - t0:.1f} s")


def configure_module(knot, cf, check_interval, extra=None):
    """The module section every zone uses; extra: more items (name: value),
    such as verify-served off (the simulator's nameserver names are made up:
    they must not be resolved) when the build knows it."""
    token = knot.write_secret("cf.token", cf.token + "\n")
    items = {"api_url": cf.base_url, "api_token_file": token,
             "check_interval": str(check_interval),
             "nameserver": list(LOCAL_NAMESERVERS)}
    items.update({k.replace("-", "_"): v for k, v in (extra or {}).items()})
    knot.add_module_section("cf", **items)


def wait_all_answer(knot, names, timeout):
    """Seconds from knotd's start until every zone answers its SOA."""
    t0 = knot.started_at
    d = Dns(knot.port, timeout=0.5)
    try:
        deadline = time.monotonic() + timeout
        for name in names:
            wait_until(lambda n=name: d.answers(n) or knot.proc.poll() is not None,
                       max(1.0, deadline - time.monotonic()), interval=0.02,
                       what=f"{name} answering")
            if knot.proc.poll() is not None:
                raise RuntimeError(f"knotd exited:\n{knot.read_stderr()[-2000:]}")
        return time.monotonic() - t0
    finally:
        d.close()


def start_knot(knot, names, timeout):
    """Start knotd and return the seconds until all zones answer."""
    knot.started_at = time.monotonic()
    knot.start(timeout=timeout)
    return wait_all_answer(knot, names, timeout)


def knot_version():
    out = subprocess.run([KNOTD, "-V"], capture_output=True, text=True).stdout
    return out.strip().split("version")[-1].strip() or out.strip()


def module_commit():
    """The last commit that changed module/ (BENCH_MODULE_COMMIT overrides it,
    for a module built from another tree: MS_MODULE_SO)."""
    if os.environ.get("BENCH_MODULE_COMMIT"):
        return os.environ["BENCH_MODULE_COMMIT"]
    r = subprocess.run(["git", "-C", SRCDIR, "log", "-1", "--format=%h %s", "--", "module"],
                       capture_output=True, text=True)
    head = subprocess.run(["git", "-C", SRCDIR, "log", "-1", "--format=%h"],
                          capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", SRCDIR, "status", "--porcelain", "--", "module"],
                           capture_output=True, text=True).stdout.strip()
    return (r.stdout.strip() or "unknown") + (" (uncommitted changes)" if dirty else "") \
        + (f"; tree {head}" if head else "")


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])
