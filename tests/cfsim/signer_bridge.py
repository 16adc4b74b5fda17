"""SignerBridge: make a real knotd serve what the simulated Cloudflare would serve.

The simulator has no DNS server (doc/cfsim.md). For end-to-end validation tests
a second knotd stands in for Cloudflare's nameservers: it signs the same zone
content with the simulator's own keys, and this bridge keeps it in step with
the simulator's state:

    simulator (admin API)                    second knotd (keymgr, knotc)
    KSK (PKCS#8 PEM)                  ->     import-pem ksk=yes, once
    ZSK tagged publish                ->     import-pem, publish=now active=0
    ZSK tagged active                 ->     active=now (retire=0)
    ZSK tagged retired                ->     retire=now: published, not signing
    ZSK tagged removed / gone         ->     keymgr delete
    other DNSKEY it serves            ->     import-pub (public-only key), or delete
      (the records made through the API: the other signer's ZSKs)
    NS it serves at the apex          ->     zone-begin / zone-unset NS / zone-set / commit
    any key change                    ->     knotc zone-keys-load

The knotd must run a policy with `manual: on`, so that it never generates or
rolls keys itself. The bridge reads the simulator over HTTP only (`keys()` and
`served()` of a fixtures_cfsim.CfsimHandle), so it works for in-process and
subprocess simulators alike. It polls every `interval` seconds (bounded: each
pass is a handful of admin calls and, on change, a few keymgr/knotc runs with
their own timeouts), applies what changed and records when, so a test can
report the lag between the simulator's change and the second signer serving it.

Knobs for experiments that must show breakage:
    public_import_delay  None: never import new public-only keys (the other
                         signer's ZSKs); a number: import a new one only once
                         it has been served by the simulator for that long.
                         0 (the default): at once.

Only the standard library; keymgr and knotc are reached through callables
given by the caller (see tests/integration/two_signers.py):
    keymgr(*args) -> object with .stdout, raising on failure
    knotc(*args)  -> the same, for the running second knotd
"""

import base64
import os
import threading
import time
import traceback

from .keys import dnskey_rdata, key_tag

SERVED_TAGS = ("publish", "active", "retired")


def _norm_name(name):
    return name.rstrip(".").lower() + "."


def _dnskey_fields(line):
    """'owner ttl IN DNSKEY flags proto alg b64...' -> (flags, proto, alg, b64)."""
    parts = line.split()
    i = [p.upper() for p in parts].index("DNSKEY")
    flags, proto, alg = (int(x) for x in parts[i + 1:i + 4])
    b64 = "".join(parts[i + 4:])
    base64.b64decode(b64, validate=True)          # malformed -> ValueError
    return flags, proto, alg, b64


class BridgeError(RuntimeError):
    pass


class SignerBridge:
    def __init__(self, cf, zone, keymgr, knotc, workdir, interval=0.5, dnskey_ttl=60,
                 ns_ttl=10, log=None):
        self.cf = cf
        self.zone = zone.rstrip(".").lower()
        self.keymgr = keymgr
        self.knotc = knotc
        self.workdir = os.path.abspath(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.interval = float(interval)
        self.dnskey_ttl = int(dnskey_ttl)
        self.ns_ttl = int(ns_ttl)
        self._log = log or (lambda msg: None)
        self.public_import_delay = 0.0
        # applied state
        self.ksk = None                   # (public_key b64, keymgr id)
        self.zsks = {}                    # public_key b64 -> {"id", "tag", "key_tag"}
        self.public = {}                  # public_key b64 -> {"id", "flags", "key_tag"}
        self.ns = None                    # sorted list of names applied (or primed)
        self.first_seen = {}              # public_key b64 -> monotonic time first served
        self.events = []                  # (monotonic, kind, detail)
        self.errors = []                  # (monotonic, text)
        self.passes = 0
        self.running = False              # knotd is up: changes need knotc
        self._stop = threading.Event()
        self._thread = None
        self._lock = threading.Lock()

    # ---- reading the simulator -------------------------------------------------
    def observe(self):
        keys = self.cf.keys(self.zone)
        served = self.cf.served(self.zone)
        own = {keys["ksk"]["public_key"]} | {z["public_key"] for z in keys["zsks"]}
        public = {}
        for line in served.get("dnskey", []):
            flags, proto, alg, b64 = _dnskey_fields(line)
            if b64 not in own:
                public[b64] = (flags, proto, alg)
        ns = sorted({_norm_name(n) for n in served.get("ns", [])})
        return keys, public, ns

    # ---- keymgr helpers --------------------------------------------------------
    @staticmethod
    def _key_id(result):
        """keymgr import-* prints the new key's id, then OK."""
        for line in result.stdout.split():
            line = line.strip().lower()
            if len(line) == 40 and all(c in "0123456789abcdef" for c in line):
                return line
        raise BridgeError(f"no key id in keymgr output: {result.stdout!r}")

    def _write(self, name, text, mode=0o600):
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    @staticmethod
    def _timers(tag, now):
        """keymgr timer arguments that put a ZSK in the simulator's state."""
        if tag == "publish":
            return {"publish": now, "active": 0, "retire": 0}
        if tag == "active":
            return {"active": now, "retire": 0}
        if tag == "retired":
            return {"retire": now}
        raise BridgeError(f"unexpected ZSK tag {tag!r}")

    def _import_zsk(self, entry, now):
        tag = entry["tag"]
        pem = self._write(f"zsk-{entry['key_tag']}.pem", entry["private_key_pem"])
        timers = {"publish": now, "active": now if tag in ("active", "retired") else 0}
        if tag == "retired":
            timers["retire"] = now
        args = [f"{k}={v}" for k, v in timers.items()]
        kid = self._key_id(self.keymgr(self.zone, "import-pem", pem, "ksk=no", *args))
        self.zsks[entry["public_key"]] = {"id": kid, "tag": tag, "key_tag": entry["key_tag"]}
        self._event("zsk-import", f"{entry['key_tag']} as {tag}")

    def _set_zsk(self, entry, now):
        rec = self.zsks[entry["public_key"]]
        timers = self._timers(entry["tag"], now)
        try:
            self.keymgr(self.zone, "set", rec["id"], *[f"{k}={v}" for k, v in timers.items()])
        except RuntimeError as e:
            if "not found" not in str(e):
                raise
            # Once, knotd 3.4.6 (manual policy) no longer had a ZSK imported
            # as published only when the simulator activated it. The stand-in
            # imports it again in its new state, and says so in its events,
            # rather than stop following the simulator.
            del self.zsks[entry["public_key"]]
            self._event("zsk-lost", f"{rec['key_tag']} was gone from the key database")
            self._import_zsk(entry, now)
            return
        self._event("zsk-state", f"{rec['key_tag']} {rec['tag']} -> {entry['tag']}")
        rec["tag"] = entry["tag"]

    def _delete(self, table, b64, kind):
        rec = table.pop(b64)
        self.keymgr(self.zone, "delete", rec["id"])
        self._event(kind, str(rec["key_tag"]))

    # ---- one pass ----------------------------------------------------------------
    def prime(self):
        """Before the second knotd starts: import the KSK and the current keys.
        Returns the apex NS names to put in its zone file."""
        keys, public, ns = self.observe()
        ksk = keys["ksk"]
        pem = self._write("ksk.pem", ksk["private_key_pem"])
        kid = self._key_id(self.keymgr(self.zone, "import-pem", pem, "ksk=yes"))
        self.ksk = (ksk["public_key"], kid)
        self._event("ksk-import", str(ksk["key_tag"]))
        self._apply_keys(keys, public, time.monotonic())
        self.ns = ns
        return ns

    def sync_once(self):
        keys, public, ns = self.observe()
        t = time.monotonic()
        if keys["ksk"]["public_key"] != (self.ksk or (None,))[0]:
            raise BridgeError("the simulator's KSK changed; a KSK roll is not bridged")
        changed = self._apply_keys(keys, public, t)
        if changed and self.running:
            self.knotc("zone-keys-load", self.zone)
        if ns != self.ns and self.running:
            self._set_ns(ns)
        self.passes += 1
        return changed

    def _apply_keys(self, keys, public, t):
        now = int(time.time())
        changed = False
        served_zsks = {z["public_key"]: z for z in keys["zsks"] if z["tag"] in SERVED_TAGS}
        # additions and state changes first, removals last (a pass cut short has
        # added before it removed)
        for b64, entry in served_zsks.items():
            if b64 not in self.zsks:
                self._import_zsk(entry, now)
                changed = True
            elif self.zsks[b64]["tag"] != entry["tag"]:
                self._set_zsk(entry, now)
                changed = True
        for b64, (flags, proto, alg) in public.items():
            self.first_seen.setdefault(b64, t)
            if b64 in self.public:
                continue
            delay = self.public_import_delay
            if delay is None or t - self.first_seen[b64] < delay:
                continue
            raw = base64.b64decode(b64)
            ktag = key_tag(dnskey_rdata(flags, proto, alg, raw))
            path = self._write(f"pub-{ktag}.key",
                               f"{self.zone}. {self.dnskey_ttl} IN DNSKEY {flags} {proto} "
                               f"{alg} {b64}\n", mode=0o644)
            kid = self._key_id(self.keymgr(self.zone, "import-pub", path))
            self.public[b64] = {"id": kid, "flags": flags, "key_tag": ktag}
            self._event("public-import", f"{ktag} (served by the simulator "
                                         f"{t - self.first_seen[b64]:.2f} s)")
            changed = True
        for b64 in [b for b in self.zsks if b not in served_zsks]:
            self._delete(self.zsks, b64, "zsk-delete")
            changed = True
        for b64 in [b for b in self.public if b not in public]:
            self._delete(self.public, b64, "public-delete")
            changed = True
        for b64 in [b for b in self.first_seen if b not in public]:
            del self.first_seen[b64]
        return changed

    def _set_ns(self, ns):
        z = self.zone
        self.knotc("zone-begin", z)
        try:
            self.knotc("zone-unset", z, "@", "NS")
            for name in ns:
                self.knotc("zone-set", z, "@", str(self.ns_ttl), "NS", name)
            self.knotc("zone-commit", z)
        except Exception:
            self.knotc("zone-abort", z)
            raise
        self._event("ns", " ".join(ns))
        self.ns = ns

    # ---- background loop ------------------------------------------------------------
    def start(self):
        self.running = True
        self._thread = threading.Thread(target=self._run, name="signer-bridge", daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            try:
                with self._lock:
                    self.sync_once()
            except Exception as e:        # keep polling; the test reads .errors
                self.errors.append((time.monotonic(), f"{type(e).__name__}: {e}\n"
                                    + traceback.format_exc(limit=3)))
                self._log(f"signer bridge: {type(e).__name__}: {e}")
            self._stop.wait(self.interval)

    def stop(self, timeout=10.0):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise BridgeError("signer bridge did not stop")
        self.running = False

    # ---- reports ---------------------------------------------------------------------
    def _event(self, kind, detail):
        self.events.append((time.monotonic(), kind, detail))
        self._log(f"signer bridge: {kind} {detail}")

    def event_time(self, kind, contains, since=0.0):
        for t, k, d in self.events:
            if t >= since and k == kind and contains in d:
                return t
        return None

