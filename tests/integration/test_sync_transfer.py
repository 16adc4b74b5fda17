"""Acceptance tests for a zone knotd receives by zone transfer and signs.

Two knotd instances on loopback: a plain primary (no module, unsigned) holds the
zone file and NOTIFYs; the module's knotd is a secondary (`master:` + an ACL for
NOTIFY) that signs the zone it transfers. Everything of test_sync.py's initial
sync and of the local ZSK rollover must hold, except the NS side: the module may
not edit a transferred zone, so it logs what the primary should add instead.
"""
import os

import pytest

from sync_helpers import (CF_NAMESERVERS, CHECK_INTERVAL, FAST_POLICY, LOCAL_NAMESERVERS, MARGIN,
                          ZONE, fast_zone_text, run_local_rollover, zone_text)
from sync_helpers import sync_knot_factory, sync_pair_factory  # noqa: F401 (fixtures)


@pytest.fixture
def transfer_pair(sync_pair_factory, sync_knot_factory):
    def make(policy=None, text=None):
        text = text or zone_text(ZONE)
        pair = sync_pair_factory(policy=policy, start=False)
        secondary = pair.knot
        primary = sync_knot_factory("primary")
        primary.with_module = False
        primary.remotes["secondary"] = f"127.0.0.1@{secondary.port}"
        primary.add_zone(ZONE, module=None, signed=False, text=text,
                         extra_conf=primary.zone_acl_conf() + "    notify: secondary\n")
        secondary.remotes["primary"] = f"127.0.0.1@{primary.port}"
        secondary.acls["notify_in"] = "notify"
        secondary.zones[ZONE]["extra"] = (secondary.zone_acl_conf("notify_in")
                                          + "    master: primary\n")
        os.remove(secondary.zones[ZONE]["file"])     # nothing but the transfer to load
        primary.start()
        pair.primary = primary
        pair.start()
        assert pair.knot.rrset(ZONE, "SOA") is not None
        assert primary.rrset(ZONE, "DNSKEY") is None, "the primary must stay unsigned"
        return pair
    return make


def test_transferred_zone_initial_sync(transfer_pair):
    pair = transfer_pair()
    primary_ns = pair.local_ns()
    assert primary_ns == set(LOCAL_NAMESERVERS)

    pair.wait(pair.keys_in_step, pair.keys_timeout,
              "our ZSK at Cloudflare and Cloudflare's ZSK in the secondary's RRset")
    s = pair.cf_settings()
    assert s["status"] in ("active", "pending") and s["multi_signer"] and s["multi_provider"]
    assert pair.validate_apex("DNSKEY") == {k.tag for k in pair.local_ksks()}
    pair.assert_never_signs_with(pair.cf_all_zsks())

    # NS: ours (the transferred apex NS minus Cloudflare's) go to Cloudflare; the
    # missing Cloudflare NS are logged for the primary, not added locally.
    def missing_logged():
        lines = [ln.lower() for ln in pair.module_lines()]
        return all(any(ns in ln and "missing" in ln for ln in lines) for ns in CF_NAMESERVERS)

    pair.wait(lambda: pair.cf_our_ns() == sorted(LOCAL_NAMESERVERS), pair.ns_timeout,
              "our nameservers at Cloudflare")
    pair.wait(missing_logged, 2 * CHECK_INTERVAL, "a log line naming each missing Cloudflare NS")
    assert pair.local_ns() == primary_ns, "the module edited the NS of a transferred zone"
    assert pair.primary.rrset(ZONE, "NS") is not None
    assert {rd.target.to_text(omit_final_dot=True) for rd in pair.primary.rrset(ZONE, "NS")} \
        == primary_ns

    # A new version from the primary: re-transferred and re-signed, keys still shared.
    theirs, ours = pair.cf_served_zsks(), pair.our_zsks()
    seq = pair.cf_last_seq()
    with open(pair.primary.zones[ZONE]["file"]) as f:
        text = f.read()
    text = text.replace(" 1 3600 600 86400 300", " 2 3600 600 86400 300") \
        + "new A 192.0.2.77\n"
    with open(pair.primary.zones[ZONE]["file"], "w") as f:
        f.write(text)
    pair.primary.knotc("zone-reload", ZONE)
    pair.wait(lambda: pair.knot.rrset(f"new.{ZONE}", "A") is not None, 15,
              "the new version transferred to the secondary")
    passes = pair.stat("sync-passes")
    pair.wait(lambda: pair.stat("sync-passes") > passes, CHECK_INTERVAL + MARGIN,
              "a sync pass over the new version")
    assert theirs <= pair.local_zsks(), "Cloudflare's ZSK lost when the zone was re-transferred"
    assert pair.our_zsks() == ours
    assert pair.cf_our_keys() == ours
    assert [e for e in pair.cf_writes(seq) if "/dns_records" in e["path"]
            and e["method"] in ("DELETE", "PUT", "PATCH")] == []
    pair.assert_never_signs_with(pair.cf_all_zsks())
    pair.assert_no_duplicates()
    pair.assert_foreign_untouched()


@pytest.mark.slow
def test_transferred_zone_zsk_rollover(transfer_pair):
    pair = transfer_pair(policy=FAST_POLICY, text=fast_zone_text())
    run_local_rollover(pair, "transferred zone")
    assert pair.local_ns() == set(LOCAL_NAMESERVERS)
