#!/usr/bin/python3
"""What does knotd do with a foreign KSK regarding CDS/CDNSKEY? (doc/cds-cdnskey.md)

Starts a throw-away knotd (loopback, a temporary directory) that signs
example.com with cds-cdnskey-publish set to each mode given (default: always),
imports a P-256 KSK made here with `keymgr import-pub`, then sets its `ready`
timer and finally runs `knotc zone-ksk-submitted`, printing the served DNSKEY,
CDNSKEY and CDS key tags after each step. Run from tests/integration:

    cd tests/integration && /usr/bin/python3 ../tools/measure_knot_cds.py always rollover
"""
import json
import os
import sys
import tempfile
import time

import dns.dnssec

sys.path.insert(0, os.getcwd())
sys.path.insert(0, os.path.abspath(os.path.join(os.getcwd(), "..", "..")))
from knot_instance import KnotInstance, wait_until  # noqa: E402
from tests.cfsim.keys import DnssecKey  # noqa: E402

ZONE = "example.com"


def tags(knot, rdtype):
    rrset = knot.rrset(ZONE, rdtype) or []
    if rdtype == "CDS":
        return sorted(r.key_tag for r in rrset)
    return sorted((r.flags, dns.dnssec.key_id(r)) for r in rrset)


def show(mode, knot, step):
    print(f"{mode:8} {step:24} DNSKEY {tags(knot, 'DNSKEY')} CDNSKEY {tags(knot, 'CDNSKEY')} "
          f"CDS {tags(knot, 'CDS')}")


def settle(knot, count):
    wait_until(lambda: len(knot.rrset(ZONE, "DNSKEY") or []) >= count, 10, what="DNSKEY")
    time.sleep(1)   # a measurement, not a test: let knotd re-sign


def measure(mode, workdir):
    knot = KnotInstance(workdir, None, name=mode)
    knot.with_module = False
    knot.policy["cds-cdnskey-publish"] = mode
    knot.add_zone(ZONE, module=None)
    knot.start()
    try:
        settle(knot, 2)
        show(mode, knot, "before")
        foreign = DnssecKey(flags=257)
        path = os.path.join(knot.dir, "foreign.key")
        with open(path, "w") as f:
            f.write(foreign.dnskey_text(ZONE, 60) + "\n")
        knot.keymgr(ZONE, "import-pub", path)
        knot.knotc("zone-keys-load", ZONE)
        settle(knot, 3)
        show(mode, knot, f"import-pub {foreign.key_tag}")
        key_id = next(k["id"] for k in json.loads(knot.keymgr("-j", ZONE, "list").stdout)
                      if k.get("public-only"))
        knot.keymgr(ZONE, "set", key_id, "ready=+0")
        knot.knotc("zone-keys-load", ZONE)
        settle(knot, 3)
        show(mode, knot, "foreign ready")
        knot.knotc("zone-ksk-submitted", ZONE, check=False)
        settle(knot, 3)
        show(mode, knot, "zone-ksk-submitted")
        for k in json.loads(knot.keymgr("-j", ZONE, "list").stdout):
            print(f"{mode:8} key {k['tag']:5} {'KSK' if k['ksk'] else 'ZSK'} "
                  f"{'public-only' if k.get('public-only') else 'own':11} "
                  + " ".join(f"{t}={k[t]}" for t in ("ready", "active", "retire")))
    finally:
        knot.stop()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        for m in sys.argv[1:] or ["always"]:
            measure(m, tmp)
