"""Served CDS/CDNSKEY check (issue 5, RFC 8901 rule 6): the module reads the
CDS and CDNSKEY RRsets knotd serves and those Cloudflare's nameservers serve
(the verify-address servers) and says which case holds, once per change, and
in the status file.

Two real signers: knotd A with the module (its own KSK and ZSK) and a second
knotd standing in for Cloudflare's nameservers (its own keys). Which of them
publishes CDS/CDNSKEY is set with each one's `cds-cdnskey-publish`; what each
serves is checked by DNS here too, so the module's finding is compared with
the truth, not with the configuration.
"""
import json
import os

import dns.dnssec
import pytest

from knot_instance import wait_until
from sync_helpers import CHECK_INTERVAL, MARGIN, SYNC_POLICY, ZONE
from sync_helpers import sync_knot_factory, sync_pair_factory  # noqa: F401 (fixtures)


def start_stand_in(sync_knot_factory, publish):
    ns = sync_knot_factory("cfns")
    ns.policy = dict(ns.policy, **{"cds-cdnskey-publish": publish})
    ns.add_zone(ZONE, module=None)
    ns.start()
    wait_until(lambda: ns.rrset(ZONE, "DNSKEY"), 10, what="stand-in's DNSKEY RRset")
    return ns


def tags(knot, rdtype):
    rrs = knot.rrset(ZONE, rdtype) or []
    if rdtype == "CDS":
        return sorted(r.key_tag for r in rrs)
    return sorted(dns.dnssec.key_id(r) for r in rrs)


def status_cds(pair):
    path = os.path.join(pair.knot.dir, "multisigner", ZONE + ".status")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f).get("cds")


def cds_lines(pair):
    return [ln for ln in pair.knot.read_log().splitlines() if "CDS/CDNSKEY" in ln]


@pytest.mark.parametrize("ours", ["always", "none"])
def test_served_cds_cdnskey_classified(sync_pair_factory, sync_knot_factory, ours):
    cf_ns = start_stand_in(sync_knot_factory, "none")
    pair = sync_pair_factory(policy=dict(SYNC_POLICY, **{"cds-cdnskey-publish": ours}),
                             module_items={"verify_address": f"127.0.0.1@{cf_ns.port}"})
    # The truth, by DNS: the stand-in publishes none; knotd A as configured.
    assert tags(cf_ns, "CDS") == [] and tags(cf_ns, "CDNSKEY") == []
    if ours == "always":
        wait_until(lambda: tags(pair.knot, "CDS"), 10, what="knotd A's CDS")
        (ksk,) = pair.local_ksks()
        assert tags(pair.knot, "CDS") == [ksk.tag] == tags(pair.knot, "CDNSKEY")
        needle = "CDS/CDNSKEY differ between the providers"
    else:
        assert tags(pair.knot, "CDS") == [] and tags(pair.knot, "CDNSKEY") == []
        needle = "CDS/CDNSKEY: neither knotd nor Cloudflare's nameservers publish any"

    # Once Cloudflare's KSK is known (its DNSSEC details), the finding is stable.
    pair.wait(pair.keys_in_step, pair.keys_timeout, "key exchange through the API")
    cf_ksk = int(pair.cf.keys(ZONE)["ksk"]["key_tag"])
    (our_ksk,) = pair.local_ksks()
    both = " ".join(str(t) for t in sorted({cf_ksk, our_ksk.tag}))
    pair.knot.wait_log(f"KSKs {both}", CHECK_INTERVAL + MARGIN)
    # Cloudflare's KSK is imported into knotd; the stand-in (Cloudflare's
    # nameservers here) is not fed from the API, so it lacks our KSK.
    settled_text = f"KSKs {both}: knotd lacks none, Cloudflare lacks"
    pair.knot.wait_log(settled_text, 2 * CHECK_INTERVAL + MARGIN)
    settled = [ln for ln in pair.knot.read_log().splitlines() if settled_text in ln][-1]
    assert str(our_ksk.tag) in settled.split("Cloudflare lacks", 1)[1], settled
    line = [ln for ln in cds_lines(pair) if needle in ln][-1]
    if ours == "always":
        assert "warning" in line.lower(), line
        assert (f"knotd publishes CDS {ksk.tag}, CDNSKEY {ksk.tag}; Cloudflare's "
                "nameservers CDS none, CDNSKEY none") in line
        assert "cds-cdnskey-publish: none" in line and "union at both" in line
        want = "mismatch"
    else:
        assert "info" in line.lower(), line
        want = "none"
    wait_until(lambda: (status_cds(pair) or {}).get("case") == want, CHECK_INTERVAL + MARGIN,
               what=f"status file cds.case {want}")
    assert needle in status_cds(pair)["detail"]
    assert "KSK sharing: " in status_cds(pair)["detail"]

    # Logged on change only: more passes, no new line.
    logged = len(cds_lines(pair))
    passes = pair.stat("sync-passes")
    pair.wait(lambda: pair.stat("sync-passes") >= passes + 2, 2 * CHECK_INTERVAL + MARGIN,
              "two more passes")
    assert len(cds_lines(pair)) == logged, cds_lines(pair)
