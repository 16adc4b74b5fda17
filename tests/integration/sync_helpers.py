"""Shared pieces of the synchronisation acceptance tests (test_sync*.py).

A *pair* is one knotd that loads mod-multisigner for a signed zone, and one
Cloudflare API simulator (tests/cfsim) that holds the same zone. Helpers read
each side the way an observer would:

    knotd       DNS answers from its loopback listener (DNSKEY, NS, RRSIG, AXFR)
                and `keymgr -j <zone> list` (which keys are knotd's own)
    Cloudflare  the simulator's /__admin API (records, keys, settings, served
                sets, request log); admin calls are never logged nor counted,
                so the request log holds the module's requests only

Every wait is a bounded poll whose bound is derived from the policy and the
check interval below; a timeout fails with a dump of both sides.

The module configuration these tests assume (the lead's side of the contract):

    mod-multisigner:
      - id: cf
        api-url: <simulator base_url>          # http://127.0.0.1:PORT/client/v4
        api-token-file: <file, mode 0600>
        ca-file: <simulator CA>                # HTTPS pairs only
        zone-id: <32 hex>                      # some pairs; default: by name
        nameserver: [ ns1.example.net, ... ]   # some pairs; default: derived
        check-interval: 10
        dry-run: on                            # dry-run test only
        hold-time: 20                          # Cloudflare rollover test, if the
                                               # build knows the item
"""
import base64
import dataclasses
import json
import os
import re
import time

import dns.dnssec
import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import pytest

from conftest import instance_factory
from knot_instance import DEFAULT_POLICY, KnotInstance, zone_text

ZONE = "example.com"
TOKEN_FILE = "cf.token"
MARKER = "knot-multisigner"          # our records' comment contains this
CHECK_INTERVAL = 10                  # seconds: the module's smallest check-interval
# A zone's first routine check comes at its first slot at least half an
# interval after its first pass (module/registry.c), so up to 1.5 intervals
# later; every later one within one interval.
FIRST_CHECK_WITHIN = 1.5 * CHECK_INTERVAL
CF_DNSKEY_TTL = 60                   # the simulator's DNSKEY TTL (Cloudflare's minimum)
CF_TTL_MIN = 60                      # Cloudflare accepts record TTLs 60..86400 (or 1)
MARGIN = 5.0                         # seconds of slack on top of every computed bound
EXPORT_LIMIT = 2.0                   # local publication -> record at Cloudflare
SERVED_TAGS = ("publish", "active", "retired")   # Cloudflare ZSK tags it serves
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Cloudflare's assigned nameservers for the simulator zone: not the simulator's
# defaults, so a module that hard-codes those is caught.
CF_NAMESERVERS = ["kai.ns.cloudflare.com", "lia.ns.cloudflare.com"]
LOCAL_NAMESERVERS = ["ns1.example.net", "ns2.example.net"]
FOREIGN_APEX_NS = "ns1.third-provider.example"

# The policy of most pairs (the brief's): short DNSKEY TTL, small propagation delay.
SYNC_POLICY = dict(DEFAULT_POLICY)

# The fastest ZSK rollover Knot 3.2.6 still does in pre-publish steps that a test
# can watch (see the comment at the top of test_sync_rollover.py).
FAST_POLICY = {
    "algorithm": "ecdsap256sha256",
    "dnskey-ttl": "10",
    "zone-max-ttl": "10",
    "propagation-delay": "1",
    "zsk-lifetime": "1h",
    "ksk-lifetime": "0",
}


def fast_zone_text(origin=ZONE, ns=tuple(n + "." for n in LOCAL_NAMESERVERS)):
    """A zone whose largest TTL is 10 s, to match FAST_POLICY's zone-max-ttl."""
    return zone_text(origin, ns).replace("$TTL 300", "$TTL 10").replace(
        "86400 300", "86400 10")


# ---- keys ----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Key:
    """A DNSKEY value, comparable across both sides (knotd rdata, Cloudflare
    record, simulator key)."""
    flags: int
    protocol: int
    algorithm: int
    key: bytes

    @classmethod
    def from_rdata(cls, rd):
        return cls(rd.flags, rd.protocol, int(rd.algorithm), bytes(rd.key))

    @classmethod
    def from_text(cls, text):
        """"256 3 13 <base64, spaces allowed>"."""
        flags, proto, alg, *b64 = text.split()
        return cls(int(flags), int(proto), int(alg), base64.b64decode("".join(b64)))

    @classmethod
    def from_cf_record(cls, rec):
        data = rec.get("data") or {}
        if data.get("public_key"):
            return cls(int(data["flags"]), int(data["protocol"]), int(data["algorithm"]),
                       base64.b64decode(data["public_key"]))
        return cls.from_text(rec["content"])

    @classmethod
    def from_sim_key(cls, k):
        return cls(int(k["flags"]), int(k.get("protocol", 3)), int(k.get("algorithm", 13)),
                   base64.b64decode(k["public_key"]))

    @property
    def rdata(self):
        return dns.rdtypes.ANY.DNSKEY.DNSKEY(dns.rdataclass.IN, dns.rdatatype.DNSKEY,
                                             self.flags, self.protocol, self.algorithm,
                                             self.key)

    @property
    def tag(self):
        return dns.dnssec.key_id(self.rdata)

    @property
    def b64(self):
        return base64.b64encode(self.key).decode()

    def __repr__(self):
        return f"<Key {self.tag} flags {self.flags} {self.b64[:12]}...>"


def tags(keys):
    return sorted(k.tag for k in keys)


# ---- knotd with the extra configuration the sync tests need --------------------------
class SyncKnot(KnotInstance):
    """KnotInstance plus top-level remote/acl sections, and an ACL that lets
    the test AXFR the signed zone from loopback (to see every RRSIG)."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.remotes = {}                 # id -> "127.0.0.1@port"
        self.acls = {"test_axfr": "transfer"}

    def zone_acl_conf(self, *extra_acls):
        return "    acl: [ " + ", ".join(("test_axfr",) + extra_acls) + " ]\n"

    def render_conf(self):
        conf = super().render_conf()
        top = []
        if self.remotes:
            top.append("remote:\n")
            for rid, addr in self.remotes.items():
                top.append(f"  - id: {rid}\n    address: {addr}\n")
        top.append("acl:\n")
        for aid, action in self.acls.items():
            top.append(f"  - id: {aid}\n    address: 127.0.0.1\n    action: {action}\n")
        return conf.replace("policy:\n", "".join(top) + "policy:\n", 1)

    def item_supported(self, section_id, item, value):
        """Whether this build's module knows a config item (by conf-check)."""
        saved = dict(self.mod_sections[section_id])
        self.mod_sections[section_id][item] = value
        r = self.conf_check()
        self.mod_sections[section_id] = saved
        self.write_conf()
        if r.returncode == 0:
            return True, ""
        return False, (r.stdout + r.stderr).strip()


# ---- the pair ---------------------------------------------------------------------------
class Pair:
    def __init__(self, knot, cf, zone=ZONE):
        self.knot = knot
        self.cf = cf
        self.zone = zone
        self.origin = dns.name.from_text(zone)
        self.cf_zone_id = None
        self.foreign = {}                 # record id -> snapshot
        self.original_ns = set()

    # -- timing from the policy --
    @property
    def local_dnskey_ttl(self):
        return int(self.knot.policy["dnskey-ttl"])

    @property
    def ttl_k(self):
        """Largest DNSKEY TTL served by either side (RFC 8901's TTL_K)."""
        return max(self.local_dnskey_ttl, CF_DNSKEY_TTL, CF_TTL_MIN)

    @property
    def keys_timeout(self):
        """Initial key exchange: setup may take one pass, keys the next."""
        return 2 * CHECK_INTERVAL + MARGIN

    @property
    def ns_timeout(self):
        """NS join only once keys have been on both sides for TTL_K (rule 8)."""
        return self.ttl_k + 2 * CHECK_INTERVAL + MARGIN

    # -- process control --
    def start(self):
        self.knot.start()
        self.wait(lambda: self.local_dnskey_rrset() is not None, 15,
                  "knotd serving the signed zone")
        self.original_ns = self.original_ns or self.local_ns()
        return self

    def restart(self):
        self.knot.stop()
        assert self.knot.proc.returncode is not None
        return self.start()

    # -- knotd side --
    def _dns(self, name, rdtype, one_rr=False, timeout=2.0):
        q = dns.message.make_query(name, rdtype, want_dnssec=True)
        return dns.query.tcp(q, "127.0.0.1", port=self.knot.port, timeout=timeout,
                             one_rr_per_rrset=one_rr)

    def _answer(self, rdtype, name=None):
        """(rrset, rrsig rrset) at the apex, or (None, None) if knotd does not answer."""
        rdtype = dns.rdatatype.RdataType.make(rdtype)
        try:
            msg = self._dns(name or self.zone, rdtype)
        except (OSError, dns.exception.DNSException):
            return None, None
        found = sig = None
        for rrset in msg.answer:
            if rrset.rdtype == rdtype:
                found = rrset
            elif rrset.rdtype == dns.rdatatype.RRSIG and rrset.covers == rdtype:
                sig = rrset
        return found, sig

    def local_dnskey_rrset(self):
        return self._answer("DNSKEY")[0]

    def local_keys(self):
        rrset = self.local_dnskey_rrset()
        return set() if rrset is None else {Key.from_rdata(rd) for rd in rrset}

    def local_zsks(self):
        return {k for k in self.local_keys() if k.flags == 256}

    def local_ksks(self):
        """knotd's own KSKs in its DNSKEY RRset (not imported ones such as
        Cloudflare's KSK, which the module brings in public only)."""
        own = {k["tag"] for k in self.keymgr_keys()
               if k.get("ksk") and not k.get("public-only")}
        return {k for k in self.local_keys() if k.flags == 257 and k.tag in own}

    def local_all_ksks(self):
        """Every KSK in knotd's DNSKEY RRset: ours and imported ones."""
        return {k for k in self.local_keys() if k.flags == 257}

    def local_dnskey_ttls(self):
        """{Key: TTL} record by record (one RR per RRset, so nothing is merged)."""
        msg = self._dns(self.zone, "DNSKEY", one_rr=True)
        return {Key.from_rdata(rrset[0]): rrset.ttl for rrset in msg.answer
                if rrset.rdtype == dns.rdatatype.DNSKEY}

    def keymgr_keys(self):
        out = self.knot.keymgr("-j", self.zone, "list").stdout
        return json.loads(out)

    def own_zsk_tags(self):
        """Tags of the ZSKs knotd holds private keys for (not imported ones)."""
        return {k["tag"] for k in self.keymgr_keys()
                if k.get("zsk") and not k.get("ksk") and not k.get("public-only")}

    def our_zsks(self):
        """The ZSKs knotd publishes of its own (flags 256, not imported)."""
        own = self.own_zsk_tags()
        return {k for k in self.local_zsks() if k.tag in own}

    def local_ns(self):
        rrset = self._answer("NS")[0]
        return set() if rrset is None else {rd.target.to_text(omit_final_dot=True).lower()
                                           for rd in rrset}

    def soa_sig_tags(self):
        sig = self._answer("SOA")[1]
        return set() if sig is None else {rd.key_tag for rd in sig}

    def zone_rrsig_tags(self):
        """{key tag: set of covered types} over the whole zone (AXFR)."""
        found = {}
        for msg in dns.query.xfr("127.0.0.1", self.zone, port=self.knot.port, timeout=5,
                                 lifetime=15):
            for rrset in msg.answer:
                if rrset.rdtype == dns.rdatatype.RRSIG:
                    for rd in rrset:
                        found.setdefault(rd.key_tag, set()).add(
                            dns.rdatatype.to_text(rd.type_covered))
        return found

    def validate_apex(self, rdtype="DNSKEY"):
        """Validate an apex RRset against knotd's DNSKEY RRset; return the signer tags."""
        keys = self.local_dnskey_rrset()
        rrset, sig = self._answer(rdtype)
        assert keys is not None and rrset is not None and sig is not None, \
            f"knotd did not serve a signed {rdtype} RRset"
        dns.dnssec.validate(rrset, sig, {self.origin: keys})   # raises if bogus
        return {rd.key_tag for rd in sig}

    def stats(self):
        out = self.knot.knotc("-f", "zone-stats", self.zone, check=False).stdout
        return {m.group(1): int(m.group(2))
                for m in re.finditer(r"mod-multisigner\.([a-z-]+) = (\d+)", out)}

    def stat(self, name):
        return self.stats().get(name, -1)

    def log_lines(self):
        return self.knot.read_log().splitlines()

    def module_lines(self):
        return [ln for ln in self.log_lines() if "mod-multisigner" in ln]

    def state_files(self):
        d = os.path.join(self.knot.dir, "multisigner")
        if not os.path.isdir(d):
            return {}
        out = {}
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if os.path.isfile(path):
                with open(path, errors="replace") as f:
                    out[path] = f.read()
        return out

    # -- Cloudflare side --
    def cf_zone(self):
        return self.cf.zone(self.zone)

    def cf_records(self, rtype=None):
        recs = self.cf.records(self.zone)
        return [r for r in recs if rtype is None or r["type"] == rtype]

    @staticmethod
    def is_ours(rec):
        return MARKER in (rec.get("comment") or "")

    def cf_dnskey_records(self):
        return self.cf_records("DNSKEY")

    def cf_our_dnskey_records(self):
        return [r for r in self.cf_dnskey_records() if self.is_ours(r)]

    def cf_our_keys(self):
        """Our ZSKs exported as records (our KSK records: cf_our_ksks)."""
        return {k for k in self.cf_our_all_keys() if k.flags == 256}

    def cf_our_ksks(self):
        return {k for k in self.cf_our_all_keys() if k.flags == 257}

    def cf_our_all_keys(self):
        return {Key.from_cf_record(r) for r in self.cf_our_dnskey_records()}

    def cf_record_keys(self):
        return {Key.from_cf_record(r) for r in self.cf_dnskey_records()}

    def cf_zsk_entries(self):
        return self.cf.keys(self.zone)["zsks"]

    def cf_dnssec_on(self):
        return self.cf_zone()["dnssec"]["status"] in ("active", "pending", "pending-disabled")

    def cf_served_zsks(self):
        """Cloudflare's own ZSKs it serves (tagged publish, active or retired; none
        while its DNSSEC is off)."""
        if not self.cf_dnssec_on():
            return set()
        return {Key.from_sim_key(z) for z in self.cf_zsk_entries()
                if z["tag"] in SERVED_TAGS and not z.get("raw")}

    def cf_all_zsks(self):
        return {Key.from_sim_key(z) for z in self.cf_zsk_entries() if not z.get("raw")}

    def cf_ns_records(self):
        return [r for r in self.cf_records("NS") if r["name"] == self.zone]

    def cf_our_ns(self):
        return sorted(r["content"].rstrip(".").lower() for r in self.cf_ns_records()
                      if self.is_ours(r))

    def cf_settings(self):
        z = self.cf_zone()
        return {"status": z["dnssec"]["status"],
                "multi_signer": z["dnssec"]["dnssec_multi_signer"],
                "multi_provider": z["dns_settings"]["multi_provider"]}

    def cf_served(self):
        return self.cf.served(self.zone)

    def cf_log(self, since=0):
        return self.cf.log(since)

    def cf_last_seq(self):
        entries = self.cf.log(0)
        return entries[-1]["seq"] if entries else 0

    def cf_writes(self, since=0):
        return [e for e in self.cf.log(since) if e["method"] in WRITE_METHODS]

    # -- foreign records: the admin's, never ours --
    def plant_foreign(self):
        """Records an administrator made at Cloudflare; the module must never touch
        them. Added behind the API's back (DNSKEY needs multi-signer, which is off)."""
        from cfsim.keys import DnssecKey, FLAGS_ZSK   # a real P-256 key
        other = DnssecKey(FLAGS_ZSK)
        planted = [
            {"type": "DNSKEY", "name": self.zone, "ttl": CF_DNSKEY_TTL,
             "data": {"flags": 256, "protocol": 3, "algorithm": 13,
                      "public_key": other.public_b64}},
            {"type": "DNSKEY", "name": self.zone, "ttl": CF_DNSKEY_TTL,
             "comment": "third signer, added by hand",
             "data": {"flags": 256, "protocol": 3, "algorithm": 13,
                      "public_key": DnssecKey(FLAGS_ZSK).public_b64}},
            {"type": "NS", "name": self.zone, "content": FOREIGN_APEX_NS, "ttl": 86400,
             "comment": "third provider"},
            {"type": "NS", "name": f"sub.{self.zone}", "content": "ns.sub.example.org",
             "ttl": 3600},
            {"type": "A", "name": f"www.{self.zone}", "content": "192.0.2.1", "ttl": 300},
            {"type": "A", "name": f"cdn.{self.zone}", "content": "192.0.2.80", "ttl": 300,
             "comment": "do not touch"},
        ]
        for rec in planted:
            made = self.cf.add_record(self.zone, rec, validate=False)
            made = made.get("record", made)
            self.foreign[made["id"]] = self._snapshot(made)
        assert len(self.foreign) == len(planted)
        return self.foreign

    @staticmethod
    def _snapshot(rec):
        return {k: rec.get(k) for k in ("id", "type", "name", "content", "data", "ttl",
                                        "comment", "tags", "created_on", "modified_on")}

    def assert_foreign_untouched(self):
        now = {r["id"]: self._snapshot(r) for r in self.cf_records()}
        for rid, before in self.foreign.items():
            assert rid in now, f"foreign record was deleted: {before}"
            assert now[rid] == before, f"foreign record changed:\n{before}\n{now[rid]}"
        writes = [e for e in self.cf.log(0) if e["method"] in ("PUT", "PATCH", "DELETE")
                  and any(rid in e["path"] for rid in self.foreign)]
        assert not writes, f"the module wrote to foreign records: {writes}"

    # -- waits and diagnostics --
    def wait(self, predicate, timeout, what, interval=0.2):
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = predicate()
            except (OSError, dns.exception.DNSException):
                value = None
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(f"not within {timeout:.0f} s: {what}\n{self.describe()}")
            time.sleep(interval)

    def hold(self, predicate, duration, what, interval=0.2):
        """predicate must stay true for the whole duration."""
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            assert predicate(), f"{what} stopped holding\n{self.describe()}"
            time.sleep(interval)

    def describe(self):
        def safe(f):
            try:
                return f()
            except Exception as e:   # diagnostics must never hide the real failure
                return f"<{type(e).__name__}: {e}>"
        lines = [
            "--- knotd serves DNSKEY: " + str(safe(lambda: tags(self.local_keys()))),
            "    own ZSK tags (keymgr): " + str(safe(lambda: sorted(self.own_zsk_tags()))),
            "    NS: " + str(safe(lambda: sorted(self.local_ns()))),
            "    SOA signed by: " + str(safe(lambda: sorted(self.soa_sig_tags()))),
            "    counters: " + str(safe(self.stats)),
            "--- Cloudflare settings: " + str(safe(self.cf_settings)),
            "    ZSKs: " + str(safe(lambda: [(z["key_tag"], z["tag"])
                                             for z in self.cf_zsk_entries()])),
            "    DNSKEY records: " + str(safe(lambda: [
                (Key.from_cf_record(r).tag, r["ttl"], r.get("comment"))
                for r in self.cf_dnskey_records()])),
            "    NS records: " + str(safe(lambda: [(r["content"], r.get("comment"))
                                                   for r in self.cf_ns_records()])),
            "    API requests: " + str(safe(lambda: [
                f"{e['method']} {e['path']} {e['status']}" for e in self.cf.log(0)][-25:])),
            "--- module log (last 25 lines):",
        ]
        lines += safe(lambda: self.module_lines()[-25:]) or ["    (none)"]
        return "\n".join(lines)

    # -- composite conditions used by several tests --
    def keys_in_step(self):
        """Each side has the other's ZSKs: ours at Cloudflare, theirs in knotd."""
        ours = self.our_zsks()
        theirs = self.cf_served_zsks()
        return bool(ours) and bool(theirs) and ours <= self.cf_our_keys() \
            and theirs <= self.local_zsks()

    def ns_in_step(self):
        return (set(self.cf_our_ns()) >= set(LOCAL_NAMESERVERS)
                and set(CF_NAMESERVERS) <= self.local_ns())

    def assert_no_duplicates(self):
        contents = [(r["type"], Key.from_cf_record(r) if r["type"] == "DNSKEY"
                     else r["content"].lower()) for r in self.cf_records()
                    if r["name"] == self.zone and r["type"] in ("DNSKEY", "NS")]
        dups = {c for c in contents if contents.count(c) > 1}
        assert not dups, f"duplicate records at Cloudflare: {dups}"

    def assert_no_orphans(self):
        """Every DNSKEY record marked ours holds a key knotd publishes as its own
        (a ZSK, or a KSK offered to Cloudflare)."""
        ours = self.our_zsks() | self.local_ksks()
        orphans = [Key.from_cf_record(r) for r in self.cf_our_dnskey_records()
                   if Key.from_cf_record(r) not in ours]
        assert not orphans, f"our records at Cloudflare for keys knotd does not publish: " \
                            f"{orphans}\n{self.describe()}"

    def assert_never_signs_with(self, keys):
        """No RRSIG anywhere in knotd's zone carries these keys' tags."""
        sig_tags = self.zone_rrsig_tags()
        bad = {k.tag: sig_tags[k.tag] for k in keys if k.tag in sig_tags}
        assert not bad, f"knotd signs with Cloudflare's keys {bad}"


# ---- fixtures ---------------------------------------------------------------------------
@pytest.fixture
def sync_knot_factory(tmp_path, module_so):
    yield from instance_factory(SyncKnot, tmp_path, module_so)


def configure_module(knot, cf, zone_id=None, nameserver=None, tls=False, **items):
    token = knot.write_secret(TOKEN_FILE, cf.token + "\n")
    settings = {"api_url": cf.base_url, "api_token_file": token,
                "check_interval": str(CHECK_INTERVAL)}
    if tls:
        settings["ca_file"] = cf.ca_file
    if zone_id:
        settings["zone_id"] = zone_id
    if nameserver:
        settings["nameserver"] = list(nameserver)
    # Default verification would resolve the simulator's made-up Cloudflare
    # nameserver names through this machine's resolver: tests that do not
    # configure verification themselves run without it.
    if not {"verify_address", "verify_served", "verify_resolver"} & set(items):
        settings["verify_served"] = "off"
    settings.update(items)
    knot.add_module_section("cf", **settings)


def make_pair(knot_factory, cf_factory, policy=None, text=None, cf_zone=None, tls=False,
              by_zone_id=False, nameserver=None, module_items=None, foreign=True, start=True,
              name="knot"):
    """A Pair from a SyncKnot factory and a simulator factory (cfsim_factory's
    make); the arguments are sync_pair_factory's."""
    cf = cf_factory(tls=tls, options={"dnskey_ttl": CF_DNSKEY_TTL})
    assert cf.admin("GET", "/health") == {"ok": True}
    kw = {"name_servers": CF_NAMESERVERS}
    kw.update(cf_zone or {})
    zone = cf.create_zone(ZONE, **kw)
    knot = knot_factory(name)
    knot.policy = dict(policy or SYNC_POLICY)
    configure_module(knot, cf, zone_id=zone["id"] if by_zone_id else None,
                     nameserver=nameserver, tls=tls, **(module_items or {}))
    knot.add_zone(ZONE, module="cf", text=text, extra_conf=knot.zone_acl_conf())
    pair = Pair(knot, cf)
    pair.cf_zone_id = zone["id"]
    if foreign:
        pair.plant_foreign()
    assert pair.cf_log() == [], "the simulator's log must start empty"
    if start:
        pair.start()
    return pair


@pytest.fixture
def sync_pair_factory(sync_knot_factory, cfsim_factory):
    """make(...) -> Pair.

    policy        knotd policy items (default SYNC_POLICY)
    text          zone file text (default: knot_instance.zone_text)
    cf_zone       create_zone() kwargs for the simulator zone (default: fresh,
                  DNSSEC off, multi-signer off, multi-provider off)
    tls           the simulator over HTTPS, with ca-file
    by_zone_id    configure zone-id instead of the look-up by name
    nameserver    configure this list instead of deriving it
    module_items  more mod-multisigner items (dry_run=True, hold_time=20 ...)
    foreign       plant records the module must never touch
    start         start knotd
    """
    def make(**kw):
        return make_pair(sync_knot_factory, cfsim_factory, **kw)

    return make


@pytest.fixture
def sync_pair(sync_pair_factory):
    """A fresh zone at Cloudflare, knotd started with the module, foreign records
    planted at Cloudflare."""
    return sync_pair_factory()


# ---- rollover measurement -----------------------------------------------------------
def watch_local_rollover(pair, old_zsks, timeout, poll=0.02):
    """After `zone-key-rollover zsk`: poll both sides fast until the new ZSK signs.

    Each round reads Cloudflare first, then knotd, so "Cloudflare had the key
    when knotd first signed with it" is judged from a Cloudflare reading taken
    before the signature was seen. Returns monotonic times: local (first seen
    in knotd's DNSKEY RRset), cf (first seen as our record at Cloudflare),
    signs (first RRSIG over the SOA by it); cf_at_sign; and the key."""
    out = {"local": None, "cf": None, "signs": None, "key": None, "cf_at_sign": None}
    cf_known = pair.cf_all_zsks()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cf_keys = pair.cf_our_keys()
        t_cf = time.monotonic()
        try:
            zsks = pair.local_zsks()
            sig_tags = pair.soa_sig_tags()
        except (OSError, dns.exception.DNSException):
            zsks, sig_tags = set(), set()
        t_local = time.monotonic()
        new = sorted((k for k in zsks - old_zsks if k not in cf_known), key=lambda k: k.tag)
        if new and out["key"] is None:
            out["key"], out["local"] = new[0], t_local
        key = out["key"]
        if key is not None and out["cf"] is None and key in cf_keys:
            out["cf"] = t_cf
        if key is not None and out["signs"] is None and key.tag in sig_tags:
            out["signs"] = t_local
            out["cf_at_sign"] = out["cf"] is not None
        if out["signs"] is not None and out["cf"] is not None:
            break
        time.sleep(poll)
    return out


def policy_seconds(pair, item):
    return int(pair.knot.policy[item])


def rollover_bounds(pair):
    """Bounds for one local ZSK rollover, from the policy (Knot 3.2.6 timing):
    the new key signs at publish + propagation-delay + dnskey-ttl, or later if
    the module holds it until Cloudflare has had it for TTL_K (multisigner
    rule 3); the old key leaves at activation + propagation-delay + zone-max-ttl."""
    prop = policy_seconds(pair, "propagation-delay")
    prepublish = prop + policy_seconds(pair, "dnskey-ttl")
    gate = pair.ttl_k + CHECK_INTERVAL          # allowance for a held activation
    return {
        "prepublish": prepublish,
        "activation": prepublish + gate + MARGIN,
        "removal": prop + policy_seconds(pair, "zone-max-ttl") + MARGIN,
        "cf_delete": CHECK_INTERVAL + MARGIN,
    }


def run_local_rollover(pair, label):
    """`knotc zone-key-rollover <zone> zsk` and everything the module must do
    around it. Returns the measured times (seconds)."""
    bounds = rollover_bounds(pair)
    pair.wait(pair.keys_in_step, pair.keys_timeout, "initial key exchange")
    old = pair.our_zsks()
    assert len(old) == 1, f"expected one ZSK of knotd's own before the rollover: {old}"
    (old_key,) = old
    old_ids = {r["id"] for r in pair.cf_our_dnskey_records()
               if Key.from_cf_record(r) == old_key}
    assert len(old_ids) == 1
    theirs = pair.cf_served_zsks()

    t_cmd = time.monotonic()
    pair.knot.knotc("zone-key-rollover", pair.zone, "zsk")
    seen = watch_local_rollover(pair, {old_key}, bounds["activation"])
    new_key = seen["key"]
    assert new_key is not None, f"knotd never published a new ZSK\n{pair.describe()}"
    assert seen["cf"] is not None, \
        f"new ZSK {new_key.tag} never reached Cloudflare\n{pair.describe()}"
    latency = seen["cf"] - seen["local"]
    print(f"[{label}] new ZSK {new_key.tag}: published locally "
          f"{seen['local'] - t_cmd:.2f} s after the command, at Cloudflare "
          f"{max(latency, 0.0):.2f} s after local publication "
          f"(raw {latency:+.3f} s)")
    assert latency <= EXPORT_LIMIT, \
        f"new ZSK reached Cloudflare {latency:.2f} s after local publication " \
        f"(limit {EXPORT_LIMIT} s)"
    assert seen["signs"] is not None, \
        f"new ZSK {new_key.tag} never started signing\n{pair.describe()}"
    assert seen["cf_at_sign"], \
        f"knotd signed with ZSK {new_key.tag} before Cloudflare had it\n{pair.describe()}"
    # Rule 3: and only once Cloudflare has served it for TTL_K (1 s for polling).
    assert seen["signs"] - seen["cf"] >= pair.ttl_k - 1.0, \
        f"knotd signed with ZSK {new_key.tag} {seen['signs'] - seen['cf']:.1f} s after it " \
        f"reached Cloudflare, before TTL_K ({pair.ttl_k} s)\n{pair.describe()}"
    print(f"[{label}] new ZSK signs {seen['signs'] - seen['local']:.2f} s after publication, "
          f"{seen['signs'] - seen['cf']:.2f} s after it reached Cloudflare")

    recs = [r for r in pair.cf_our_dnskey_records() if Key.from_cf_record(r) == new_key]
    assert len(recs) == 1, f"expected one record for ZSK {new_key.tag}: {recs}"
    assert CF_TTL_MIN <= recs[0]["ttl"] <= 86400
    assert old_key in pair.local_zsks(), "old ZSK left before the new one signed"

    # Knot retires the old key: once it leaves knotd's RRset it leaves Cloudflare.
    def old_left_knotd():
        at_cf = old_ids <= {r["id"] for r in pair.cf_dnskey_records()}   # Cloudflare first
        if old_key not in pair.local_zsks():
            return True
        assert at_cf, f"our record of ZSK {old_key.tag} was deleted at Cloudflare while " \
                      f"knotd still publishes the key\n{pair.describe()}"
        return False

    pair.wait(old_left_knotd, bounds["removal"],
              f"old ZSK {old_key.tag} leaving knotd's DNSKEY RRset", interval=0.05)
    t_gone = time.monotonic()
    pair.wait(lambda: not old_ids & {r["id"] for r in pair.cf_dnskey_records()},
              bounds["cf_delete"], f"our record of old ZSK {old_key.tag} deleted at Cloudflare",
              interval=0.05)
    print(f"[{label}] old ZSK {old_key.tag}: left knotd {t_gone - seen['signs']:.2f} s after "
          f"the new one signed; deleted at Cloudflare {time.monotonic() - t_gone:.2f} s later; "
          f"whole rollover {time.monotonic() - t_cmd:.1f} s")

    assert pair.our_zsks() == {new_key}
    assert pair.cf_our_keys() == {new_key}
    assert theirs <= pair.local_zsks(), "Cloudflare's ZSK left knotd during our rollover"
    pair.assert_never_signs_with(pair.cf_all_zsks())
    pair.assert_no_duplicates()
    pair.assert_no_orphans()
    pair.assert_foreign_untouched()
    return {"latency": latency, "new": new_key, "old": old_key}


def record_writes(entries):
    """What a run of logged API requests did to records: (created, deleted ids),
    created as (type, content or Key); single calls and batches alike; only
    requests that succeeded."""
    created, deleted = [], []

    def created_of(body):
        if body.get("type") == "DNSKEY":
            data = body.get("data") or {}
            try:
                return ("DNSKEY", Key(int(data["flags"]), int(data["protocol"]),
                                      int(data["algorithm"]),
                                      base64.b64decode(data["public_key"])))
            except (KeyError, TypeError, ValueError):
                return ("DNSKEY", body.get("content"))
        return (body.get("type"), str(body.get("content", "")).lower())

    for e in entries:
        if e.get("status") != 200:
            continue
        body = e.get("body") or {}
        path = e["path"]
        if e["method"] == "POST" and path.endswith("/dns_records/batch"):
            created += [created_of(b) for b in body.get("posts") or []]
            deleted += [d.get("id") for d in body.get("deletes") or []]
        elif e["method"] == "POST" and path.endswith("/dns_records"):
            created.append(created_of(body))
        elif e["method"] == "DELETE" and "/dns_records/" in path:
            deleted.append(path.rsplit("/", 1)[-1])
    return created, deleted
