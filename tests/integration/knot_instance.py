"""A real knotd from Debian's package, on a loopback port, for one test.

Each instance gets its own directory with config, zone files, key database,
storage, log and control socket. Everything it waits for is a bounded poll;
stop() always ends the process.
"""
import os
import random
import shlex
import shutil
import signal
import socket
import subprocess
import textwrap
import time

import dns.message
import dns.query
import dns.rdatatype

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
KNOTC = shutil.which("knotc") or "/usr/sbin/knotc"
KEYMGR = shutil.which("keymgr") or "/usr/sbin/keymgr"


def knot_env():
    """The environment for knotd, knotc and keymgr, which load the module:
    os.environ plus MS_KNOT_ENV ("VAR=value ..." in shell words), e.g. the
    LD_PRELOAD of libasan for a module built with sanitizers
    (scripts/test-sanitizers.sh). None (inherit) when it is unset."""
    extra = shlex.split(os.environ.get("MS_KNOT_ENV", ""))
    return dict(os.environ, **dict(w.split("=", 1) for w in extra)) if extra else None


# Below the kernel's ephemeral range (32768-60999 by default), so that no
# client socket of a test (HTTP to the simulator, DNS queries) can take the
# port between our check and knotd's bind.
PORT_RANGE = (10000, 30000)
# Seconds knotd 3.4's main thread may take to notice a `knotc stop` that one
# of its control threads ran: it looks when its accept() poll returns, after
# 5 s without a connection (doc/knot-versions.md, Shutdown). 3.2: at once.
KNOT_ACCEPT_WAIT = 5


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1 (checked, not guessed)."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(*PORT_RANGE)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, \
                    socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                u.bind(("127.0.0.1", port))
                t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free loopback port found")


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    """Poll predicate until it returns a true value or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


DEFAULT_POLICY = {
    "algorithm": "ecdsap256sha256",
    "dnskey-ttl": "60",
    "zone-max-ttl": "300",
    "propagation-delay": "2",
    "zsk-lifetime": "1h",
    "ksk-lifetime": "0",
}


def zone_text(origin, ns=("ns1.example.net.", "ns2.example.net."), extra=""):
    lines = [f"$ORIGIN {origin}.", "$TTL 300",
             f"@ SOA {ns[0]} hostmaster.{origin}. 1 3600 600 86400 300"]
    lines += [f"@ NS {n}" for n in ns]
    lines += ["www A 192.0.2.1", "mail AAAA 2001:db8::25"]
    return "\n".join(lines) + "\n" + extra


class KnotInstance:
    def __init__(self, workdir, module_so, name="knot"):
        self.dir = os.path.abspath(os.path.join(workdir, name))
        os.makedirs(self.dir, exist_ok=True)
        self.module_so = module_so
        self.port = free_port()
        self.proc = None
        self.zones = {}          # name -> dict(file=..., module=..., extra=...)
        self.mod_sections = {}   # id -> dict of items (values: str or list)
        self.policy = dict(DEFAULT_POLICY)
        self.with_module = True

    # ---- paths -----------------------------------------------------------
    @property
    def conf_path(self):
        return os.path.join(self.dir, "knot.conf")

    @property
    def log_path(self):
        return os.path.join(self.dir, "knotd.log")

    @property
    def socket_path(self):
        return os.path.join(self.dir, "knot.sock")

    # ---- configuration ---------------------------------------------------
    def write_secret(self, name, content, mode=0o600):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(content)
        os.chmod(path, mode)
        return path

    def add_module_section(self, mod_id, **items):
        self.mod_sections[mod_id] = {k.replace("_", "-"): v for k, v in items.items()}

    def add_zone(self, name, module="cf", text=None, signed=True, extra_conf=""):
        path = os.path.join(self.dir, f"{name}.zone")
        with open(path, "w") as f:
            f.write(text if text is not None else zone_text(name))
        self.zones[name] = {"file": path, "module": module, "signed": signed,
                            "extra": extra_conf}

    @staticmethod
    def _yaml_value(v):
        if isinstance(v, bool):
            return "on" if v else "off"
        if isinstance(v, (list, tuple)):
            return "[ " + ", ".join(KnotInstance._yaml_value(x) for x in v) + " ]"
        v = str(v)
        # Knot's YAML subset needs quotes around flow characters such as [ ].
        return f'"{v}"' if any(c in v for c in "[]{},#: ") else v

    def render_conf(self):
        out = [textwrap.dedent(f"""\
            server:
              rundir: {self.dir}
              listen: 127.0.0.1@{self.port}
            log:
              - target: {self.log_path}
                any: debug
            database:
              storage: {self.dir}
              kasp-db: {self.dir}/keys
            control:
              listen: {self.socket_path}
            """)]
        if self.with_module and self.mod_sections:
            out.append(f"module:\n  - id: mod-multisigner\n    file: {self.module_so}\n")
            out.append("mod-multisigner:\n")
            for mod_id, items in self.mod_sections.items():
                out.append(f"  - id: {mod_id}\n")
                out += [f"    {k}: {self._yaml_value(v)}\n" for k, v in items.items()]
        out.append("policy:\n  - id: ms\n")
        out += [f"    {k}: {v}\n" for k, v in self.policy.items()]
        out.append("zone:\n")
        for name, z in self.zones.items():
            out.append(f"  - domain: {name}\n    file: {z['file']}\n")
            if z["signed"]:
                out.append("    dnssec-signing: on\n    dnssec-policy: ms\n")
            if self.with_module and z["module"]:
                out.append(f"    module: mod-multisigner/{z['module']}\n")
            out.append(z["extra"])
        return "".join(out)

    def write_conf(self):
        with open(self.conf_path, "w") as f:
            f.write(self.render_conf())
        return self.conf_path

    # ---- processes -------------------------------------------------------
    def conf_check(self):
        self.write_conf()
        return subprocess.run([KNOTC, "-c", self.conf_path, "conf-check"],
                              capture_output=True, text=True, timeout=30, env=knot_env())

    def start(self, expect_ok=True, timeout=20, attempts=5):
        """Start knotd; if another process took our port meanwhile, pick a new
        one and try again (bounded)."""
        for _ in range(attempts):
            self._spawn()
            if not expect_ok:
                return self
            wait_until(lambda: self.proc.poll() is not None or self.ctl_ok(),
                       timeout, what="knotd control socket")
            if self.proc.poll() is None:
                return self
            if "address already in use" not in self.read_stderr() + self.read_log():
                break
            self.port = free_port()
        raise RuntimeError(f"knotd exited with {self.proc.returncode}:\n"
                           + self.read_stderr() + self.read_log())

    def _spawn(self):
        self.write_conf()
        if getattr(self, "stderr", None) is not None:
            self.stderr.close()
        self.stderr = open(os.path.join(self.dir, "knotd.stderr"), "w")
        self.proc = subprocess.Popen([KNOTD, "-c", self.conf_path], env=knot_env(),
                                     stdout=self.stderr, stderr=subprocess.STDOUT)

    def ctl_ok(self):
        return os.path.exists(self.socket_path) and self.knotc("status", check=False).returncode == 0

    def wait_control_loop_left(self, timeout=KNOT_ACCEPT_WAIT + 1):
        """Return once knotd has left its control loop after `knotc stop`:
        it removes the control socket then, before it stops its threads
        and frees the zones. What follows is what a module can delay."""
        deadline = time.monotonic() + timeout
        while os.path.exists(self.socket_path):
            if self.proc.poll() is not None or time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        assert not os.path.exists(self.socket_path) or self.proc.poll() is not None, \
            f"knotd did not leave its control loop within {timeout} s of `knotc stop`"

    def wait_exit(self, timeout=20):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError("knotd did not exit")

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.knotc("stop", check=False)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def knotc(self, *args, check=True, timeout=30):
        r = subprocess.run([KNOTC, "-s", self.socket_path, "-t", "5", *args],
                           capture_output=True, text=True, timeout=timeout, env=knot_env())
        if check and r.returncode != 0:
            raise RuntimeError(f"knotc {' '.join(args)} failed: {r.stdout}{r.stderr}")
        return r

    def keymgr(self, *args, check=True):
        r = subprocess.run([KEYMGR, "-c", self.conf_path, *args],
                           capture_output=True, text=True, timeout=30, env=knot_env())
        if check and r.returncode != 0:
            raise RuntimeError(f"keymgr {' '.join(args)} failed: {r.stdout}{r.stderr}")
        return r

    def read_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def read_stderr(self):
        try:
            with open(os.path.join(self.dir, "knotd.stderr"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, needle, timeout=20):
        return wait_until(lambda: needle in self.read_log(), timeout,
                          what=f"log line containing {needle!r}")

    # ---- DNS ---------------------------------------------------------------
    def query(self, name, rdtype, dnssec=True, tcp=False, timeout=2.0):
        q = dns.message.make_query(name, rdtype, want_dnssec=dnssec)
        send = dns.query.tcp if tcp else dns.query.udp
        return send(q, "127.0.0.1", port=self.port, timeout=timeout)

    def rrset_and_sig(self, name, rdtype):
        """The answer RRset of that type and the RRSIG RRset covering it."""
        rdtype = dns.rdatatype.RdataType.make(rdtype)
        found, sig = None, None
        for rrset in self.query(name, rdtype, tcp=True).answer:
            if rrset.rdtype == rdtype:
                found = rrset
            elif rrset.rdtype == dns.rdatatype.RRSIG and rrset.covers == rdtype:
                sig = rrset
        return found, sig

    def rrset(self, name, rdtype):
        return self.rrset_and_sig(name, rdtype)[0]
