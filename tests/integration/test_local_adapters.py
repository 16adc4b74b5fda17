"""The local adapters (local_dns, keymgr, knotc) against a real knotd 3.2.6.

Driven through tests/tools/localprobe, which prints the C adapters' results
as JSON; compared with what dnspython sees on the wire. No Cloudflare and no
module instance: the zone is signed by knotd alone.
"""
import base64
import json
import os
import subprocess
import time

import dns.dnssec
import dns.rdata
import dns.rdatatype
import pytest

from knot_instance import wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
ZONE = "example.com"


@pytest.fixture(scope="module")
def localprobe():
    build = os.environ.get("MS_BUILDDIR") or os.path.join(HERE, "..", "..")
    path = os.path.abspath(os.path.join(build, "tests", "tools", "localprobe"))
    if not os.path.exists(path):
        pytest.fail(f"{path} not found: run `make check` (it builds tests/tools/localprobe)")
    return path


class Probe:
    def __init__(self, path, knot):
        self.path = path
        self.knot = knot
        self.kasp = os.path.join(knot.dir, "keys")

    def run(self, *args, ok=True):
        r = subprocess.run([self.path, *map(str, args)], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode in (0, 1), r.stderr
        out = json.loads(r.stdout)
        if ok:
            assert out["ok"], out
        return out

    def dns(self):
        return self.run("dns", "127.0.0.1", self.knot.port, ZONE)

    def list(self, dnskeys=True):
        return self.run("list", self.kasp, ZONE, *(["dnskeys"] if dnskeys else []))["keys"]

    def keymgr(self, cmd, *args, ok=True):
        return self.run(cmd, self.kasp, ZONE, *args, ok=ok)

    def keys_load(self):
        return self.run("keys-load", self.knot.socket_path, ZONE)


def served(knot):
    """(DNSKEY rrset, tags over DNSKEY, tags over SOA) as dnspython sees them."""
    keys, ksig = knot.rrset_and_sig(ZONE, "DNSKEY")
    _, ssig = knot.rrset_and_sig(ZONE, "SOA")
    return (keys, sorted({s.key_tag for s in ksig} if ksig else set()),
            sorted({s.key_tag for s in ssig} if ssig else set()))


def served_tags(knot):
    keys = knot.rrset(ZONE, "DNSKEY")
    return {dns.dnssec.key_id(k) for k in keys} if keys else set()


def p256_dnskey(flags=256):
    """A fresh P-256 public key as DNSKEY rdata text, and its key tag."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    pub = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)[1:]
    text = f"{flags} 3 13 {base64.b64encode(pub).decode()}"
    rd = dns.rdata.from_text("IN", "DNSKEY", text)
    return text, dns.dnssec.key_id(rd)


@pytest.fixture
def signed(knot_factory, localprobe):
    """A knotd signing ZONE (no module), and a Probe on it."""
    def make(**policy):
        knot = knot_factory()
        knot.policy.update(policy)
        knot.add_zone(ZONE, module=None)
        knot.start()
        wait_until(lambda: knot.rrset(ZONE, "DNSKEY"), 20, what="signed DNSKEY RRset")
        return knot, Probe(localprobe, knot)
    return make


def test_local_dns_matches_dnspython(signed):
    knot, probe = signed()
    view = probe.dns()
    soa, soa_sig = knot.rrset_and_sig(ZONE, "SOA")
    keys, key_sig = knot.rrset_and_sig(ZONE, "DNSKEY")
    ns = knot.rrset(ZONE, "NS")
    assert view["soa_serial"] == soa[0].serial
    assert view["soa_ttl"] == soa.ttl
    assert sorted(view["soa_sig_tags"]) == sorted({s.key_tag for s in soa_sig})
    assert view["dnskey_ttl"] == keys.ttl == 60
    assert sorted((k["flags"], k["algorithm"], k["key"]) for k in view["dnskeys"]) == \
        sorted((k.flags, k.algorithm, base64.b64encode(k.key).decode()) for k in keys)
    assert sorted(k["tag"] for k in view["dnskeys"]) == \
        sorted(dns.dnssec.key_id(k) for k in keys)
    assert sorted(view["dnskey_sig_tags"]) == sorted({s.key_tag for s in key_sig})
    assert sorted(view["ns"]) == sorted(n.target.to_text(omit_final_dot=True).lower()
                                        for n in ns)
    assert view["ns_ttl"] == ns.ttl
    # A zone knotd does not serve, and a port nothing listens on.
    r = probe.run("dns", "127.0.0.1", knot.port, "example.org", ok=False)
    assert r["rc"] == "not found" and "REFUSED" in r["message"]


def test_keymgr_list_matches_served(signed):
    knot, probe = signed()
    keys = probe.list()
    assert len(keys) == 2
    ksk = [k for k in keys if k["ksk"]]
    zsk = [k for k in keys if k["zsk"] and not k["ksk"]]
    assert len(ksk) == 1 and len(zsk) == 1
    assert not any(k["public_only"] for k in keys)
    for k in keys:
        assert len(k["id"]) == 40 and k["publish"] > 0
        assert k["dnskey"]["tag"] == k["tag"]
    rrset, key_sigs, soa_sigs = served(knot)
    assert {(k.flags, base64.b64encode(k.key).decode()) for k in rrset} == \
        {(k["dnskey"]["flags"], k["dnskey"]["key"]) for k in keys}
    assert key_sigs == [ksk[0]["tag"]]
    assert soa_sigs == [zsk[0]["tag"]]
    # The keymgr view of a zone without keys.
    r = probe.run("list", probe.kasp, "example.org", ok=False)
    assert r["rc"] == "not found"


def test_import_pub_publishes_and_delete_removes(signed):
    knot, probe = signed()
    before = {k["id"]: k for k in probe.list(dnskeys=False)}
    ksk_tag = next(k["tag"] for k in before.values() if k["ksk"])
    own_zsk = next(k for k in before.values() if not k["ksk"])
    rdata, tag = p256_dnskey()

    t0 = time.monotonic()
    imported = probe.keymgr("import", rdata)
    t_import = time.monotonic() - t0
    assert imported["tag"] == tag
    key_id = imported["id"]
    listed = {k["id"]: k for k in probe.list()}
    assert listed[key_id]["public_only"] and listed[key_id]["active"] == 0
    assert listed[key_id]["dnskey"]["tag"] == tag
    assert tag not in served_tags(knot)  # knotd has not re-read its keys yet

    t0 = time.monotonic()
    probe.keys_load()
    wait_until(lambda: tag in served_tags(knot), 10, 0.02, what="imported key served")
    t_served = time.monotonic() - t0
    rrset, key_sigs, soa_sigs = served(knot)
    assert rrset.ttl == 60                      # the policy's dnskey-ttl
    assert key_sigs == [ksk_tag]                # signed by the KSK...
    assert tag not in key_sigs and tag not in soa_sigs  # ...never signing
    print(f"import-pub {t_import:.3f} s; zone-keys-load to served {t_served:.3f} s")

    # Idempotent; still there after a full re-sign.
    assert probe.keymgr("import", rdata)["id"] == key_id
    serial = knot.rrset(ZONE, "SOA")[0].serial
    knot.knotc("zone-sign", ZONE)
    wait_until(lambda: knot.rrset(ZONE, "SOA")[0].serial > serial, 10, what="re-signed zone")
    assert tag in served_tags(knot)

    # knotd's own keys are never imported over or deleted.
    own = probe.keymgr("dnskey", own_zsk["id"])["dnskey"]
    r = probe.keymgr("import", f"{own['flags']} 3 13 {own['key']}", ok=False)
    assert r["rc"] == "invalid value" and "own key" in r["message"]
    r = probe.keymgr("delete", own_zsk["id"], ok=False)
    assert r["rc"] == "invalid value"
    assert not next(k for k in probe.list(False) if k["id"] == own_zsk["id"])["public_only"]

    t0 = time.monotonic()
    probe.keymgr("delete", key_id)
    probe.keys_load()
    wait_until(lambda: tag not in served_tags(knot), 10, 0.02, what="imported key gone")
    print(f"delete + zone-keys-load to gone {time.monotonic() - t0:.3f} s")
    assert key_id not in {k["id"] for k in probe.list(False)}
    assert probe.keymgr("delete", key_id, ok=False)["rc"] == "not found"
    assert served(knot)[1] == [ksk_tag]


def test_zsk_rollover_shows_in_list_and_rrset(signed):
    # Short timers so that the whole rollover fits in a test.
    knot, probe = signed(**{"dnskey-ttl": "5", "propagation-delay": "1",
                            "zone-max-ttl": "5"})
    rdata, foreign = p256_dnskey()
    probe.keymgr("import", rdata)
    probe.keys_load()
    wait_until(lambda: foreign in served_tags(knot), 10, what="foreign key served")
    old = next(k for k in probe.list(False) if k["zsk"] and not k["public_only"])

    knot.knotc("zone-key-rollover", ZONE, "zsk")

    def new_zsk():
        zsks = [k for k in probe.list(False) if k["zsk"] and not k["public_only"]
                and k["id"] != old["id"]]
        return zsks[0] if zsks else None
    new = wait_until(new_zsk, 10, what="new ZSK in keymgr list")
    assert new["publish"] > 0
    wait_until(lambda: new["tag"] in served_tags(knot), 10, what="new ZSK published")
    view = probe.dns()
    assert new["tag"] in [k["tag"] for k in view["dnskeys"]]
    assert old["tag"] in [k["tag"] for k in view["dnskeys"]]

    # Activation: publish + propagation-delay + DNSKEY TTL; then the old
    # ZSK leaves after propagation-delay + zone-max-ttl.
    wait_until(lambda: served(knot)[2] == [new["tag"]], 30, 0.2, what="signatures switched")
    wait_until(lambda: old["tag"] not in served_tags(knot), 30, 0.2, what="old ZSK removed")
    listed = probe.list(False)
    assert old["id"] not in {k["id"] for k in listed}
    assert next(k for k in listed if k["id"] == new["id"])["active"] > 0
    # The foreign key stayed published and never signed.
    assert foreign in served_tags(knot)
    view = probe.dns()
    assert foreign not in view["dnskey_sig_tags"] + view["soa_sig_tags"]
