"""Acceptance tests of the synchronisation with Cloudflare (zone from a file).

knotd signs example.com with mod-multisigner; the Cloudflare API simulator
holds the same zone. Each test starts from a fresh pair (sync_helpers.py) in
which an administrator has already put records of their own at Cloudflare;
those must come through every scenario untouched.

Timing: the module checks every CHECK_INTERVAL (10 s) and on every change of
the zone's DNSKEY or NS RRset; Cloudflare's and knotd's DNSKEY TTLs are 60 s
here, so TTL_K = 60 s and nameservers join about a minute after the keys.
"""
import json
import time

import dns.dnssec
import pytest

from knot_instance import wait_until

from sync_helpers import (CF_DNSKEY_TTL, CF_NAMESERVERS, CHECK_INTERVAL, LOCAL_NAMESERVERS,
                          MARGIN, MARKER, ZONE, Key, tags)
from sync_helpers import sync_knot_factory, sync_pair, sync_pair_factory  # noqa: F401 (fixtures)

ALL_ON = {"dnssec": {"status": "pending", "dnssec_multi_signer": True},
          "dns_settings": {"multi_provider": True}}


def test_initial_sync_exchanges_zsks_and_enables_settings(sync_pair):
    pair = sync_pair
    pair.wait(pair.keys_in_step, pair.keys_timeout,
              "our ZSK at Cloudflare and Cloudflare's ZSK in knotd")

    # Settings: DNSSEC on (pending counts) with multi-signer, multi-provider on.
    settings = pair.cf_settings()
    assert settings["status"] in ("active", "pending"), settings
    assert settings["multi_signer"] is True, settings
    assert settings["multi_provider"] is True, settings

    # Export: each ZSK of knotd's own is exactly one apex DNSKEY record, marked
    # ours, at the DNSKEY RRset's TTL (60 s on both sides here); our KSK too,
    # as a DNSKEY 257 record (test_ksk_exchange.py follows it further).
    ours = pair.our_zsks()
    assert len(ours) == 1, ours
    pair.wait(lambda: pair.cf_our_ksks() == pair.local_ksks(), pair.keys_timeout,
              "our KSK at Cloudflare")
    records = pair.cf_our_dnskey_records()
    assert {Key.from_cf_record(r) for r in records} == ours | pair.local_ksks()
    assert len(records) == len(ours) + 1, f"duplicates: {records}"
    for rec in records:
        assert rec["name"] == ZONE
        assert MARKER in rec["comment"]
        assert rec["ttl"] == pair.local_dnskey_ttl == CF_DNSKEY_TTL
        assert Key.from_cf_record(rec).flags in (256, 257)
        assert Key.from_cf_record(rec).algorithm == 13
    served = {Key.from_text(line.split(None, 4)[4]) for line in pair.cf_served()["dnskey"]}
    assert ours <= served, "Cloudflare does not serve our ZSK"

    # Import: Cloudflare's served ZSKs are in knotd's RRset, each at the RRset's
    # TTL, signed by our KSK only, and never used to sign.
    theirs = pair.cf_served_zsks()
    assert len(theirs) == 1 and theirs <= pair.local_zsks()
    ttls = pair.local_dnskey_ttls()
    assert set(ttls.values()) == {pair.local_dnskey_ttl}, ttls
    assert pair.validate_apex("DNSKEY") == {k.tag for k in pair.local_ksks()}
    for rdtype in ("SOA", "NS"):
        assert pair.validate_apex(rdtype) <= {k.tag for k in ours}
    pair.assert_never_signs_with(pair.cf_all_zsks())
    assert not {k.tag for k in theirs} & pair.own_zsk_tags(), \
        "keymgr lists Cloudflare's key as one knotd can sign with"

    pair.assert_no_duplicates()
    pair.assert_foreign_untouched()


def test_nameservers_merged_then_passes_are_idle(sync_pair):
    """Rule 8 order (keys first, then NS) and, once converged, no more writes."""
    pair = sync_pair
    t0 = time.monotonic()
    pair.wait(pair.keys_in_step, pair.keys_timeout, "initial key exchange")
    pair.wait(pair.ns_in_step, pair.ns_timeout,
              "our NS at Cloudflare and Cloudflare's NS in knotd's apex NS")
    print(f"nameservers merged {time.monotonic() - t0:.1f} s after start "
          f"(TTL_K {pair.ttl_k} s)")

    # Cloudflare: our nameservers, once each, marked ours; served with multi-provider.
    assert pair.cf_our_ns() == sorted(LOCAL_NAMESERVERS)
    served_ns = {n.lower() for n in pair.cf_served()["ns"]}
    assert set(CF_NAMESERVERS) | set(LOCAL_NAMESERVERS) <= served_ns
    bad_posts = [e for e in pair.cf_log() if e["method"] == "POST"
                 and "cloudflare.com" in str((e.get("body") or {}).get("content", ""))]
    assert not bad_posts, f"tried to create Cloudflare's own NS: {bad_posts}"

    # knotd: its apex NS plus Cloudflare's assigned ones, nothing else; signed;
    # and at the zone file's NS TTL (300 s): an added record takes the RRset's.
    assert pair.local_ns() == pair.original_ns | set(CF_NAMESERVERS)
    pair.validate_apex("NS")
    assert pair.knot.rrset(ZONE, "NS").ttl == 300

    # Converged: further passes (a zone reload, then two timed passes) write nothing.
    keys_before, ns_before = pair.local_keys(), pair.local_ns()
    seq = pair.cf_last_seq()
    passes = pair.stat("sync-passes")
    assert passes >= 1
    pair.knot.knotc("zone-reload", ZONE)
    pair.wait(lambda: pair.stat("sync-passes") >= passes + 2, 2 * CHECK_INTERVAL + MARGIN,
              "two more sync passes")
    reads = [e for e in pair.cf_log(seq) if e["method"] == "GET"]
    assert reads, "the passes did not read Cloudflare"
    writes = pair.cf_writes(seq)
    assert writes == [], f"a converged pass wrote to Cloudflare: {writes}"
    assert pair.local_keys() == keys_before
    assert pair.local_ns() == ns_before
    pair.assert_no_duplicates()
    pair.assert_foreign_untouched()

    # Steady state: two reads per pass (the apex's NS and DNSKEY records, and
    # Cloudflare's ZSKs); the zone and its settings are known from before.
    # The counters are read in one go; a pass running at the end may have
    # sent its requests but not counted itself yet (at most 2 more).
    s0 = pair.stats()
    pair.wait(lambda: pair.stat("sync-passes") >= s0["sync-passes"] + 3,
              3 * CHECK_INTERVAL + MARGIN, "three more sync passes")
    s1 = pair.stats()
    passes = s1["sync-passes"] - s0["sync-passes"]
    requests = s1["api-requests"] - s0["api-requests"]
    assert requests <= 2 * passes + 2, f"{requests} API requests in {passes} passes"
    done = [ln for ln in pair.module_lines() if "pass done:" in ln]
    assert done and "2 API requests, 0 of them writes" in done[-1], done[-3:]


@pytest.mark.parametrize("cf_zone,expect", [
    (ALL_ON, {}),
    ({"dnssec": {"status": "active", "dnssec_multi_signer": False},
      "dns_settings": {"multi_provider": True}},
     {"/dnssec": {"dnssec_multi_signer": True}}),
], ids=["all-on-pending", "multi-signer-off"])
def test_setup_changes_only_what_is_wrong(sync_pair_factory, cf_zone, expect):
    pair = sync_pair_factory(cf_zone=cf_zone)
    before = pair.cf_settings()
    pair.wait(pair.keys_in_step, pair.keys_timeout, "initial key exchange")
    patches = [e for e in pair.cf_log() if e["method"] == "PATCH"]
    got = {}
    for e in patches:
        suffix = e["path"].rsplit("/", 1)[-1]
        got.setdefault("/" + suffix, {}).update(e.get("body") or {})
    assert got == expect, f"PATCH requests {patches}"
    after = pair.cf_settings()
    assert after["status"] == before["status"], "DNSSEC status was changed though it was on"
    assert after["multi_signer"] and after["multi_provider"]
    pair.assert_foreign_untouched()


def test_dnssec_turned_off_by_hand_is_seen_at_the_next_check(sync_pair):
    # The settings are cached for a day once the zone is set up; a ZSK list
    # with no key Cloudflare serves contradicts them, and the pass reads them
    # again at once instead of waiting out the day.
    pair = sync_pair
    pair.wait(pair.keys_in_step, pair.keys_timeout, "initial key exchange")
    passes = pair.stat("sync-passes")
    pair.wait(lambda: pair.stat("sync-passes") >= passes + 1, CHECK_INTERVAL + MARGIN,
              "a pass with the settings cached")
    seq = pair.cf_last_seq()
    pair.cf.set_dnssec(pair.cf_zone_id, status="disabled")

    def turned_on_again():
        return [e for e in pair.cf_log(seq)
                if e["method"] == "PATCH" and e["path"].endswith("/dnssec")]

    pair.wait(turned_on_again, 2 * CHECK_INTERVAL + MARGIN, "DNSSEC turned on again")
    assert turned_on_again()[0]["body"].get("status") == "active", turned_on_again()
    assert pair.cf_settings()["status"] in ("active", "pending")


def test_dry_run_logs_the_plan_and_writes_nothing(sync_pair_factory):
    # Cloudflare signs with multi-signer, so the plan holds an export, an import
    # and a settings change (multi-provider) for the dry run to report.
    pair = sync_pair_factory(
        cf_zone={"dnssec": {"status": "active", "dnssec_multi_signer": True}},
        module_items={"dry_run": True})
    keys_before, ns_before = pair.local_keys(), pair.local_ns()
    records_before = pair.cf_records()
    settings_before = pair.cf_settings()
    ours = pair.our_zsks()
    theirs = pair.cf_served_zsks()
    assert ours and theirs

    def planned(key):
        return [ln for ln in pair.module_lines() if "dry run" in ln.lower()
                and str(key.tag) in ln and "changes are logged, not made" not in ln]

    pair.wait(lambda: all(planned(k) for k in ours | theirs), pair.keys_timeout,
              f"dry-run lines naming ZSKs {tags(ours | theirs)}")
    passes = pair.stat("sync-passes")
    pair.wait(lambda: pair.stat("sync-passes") >= max(passes, 1) + 1,
              CHECK_INTERVAL + MARGIN, "another dry-run pass")

    assert [e for e in pair.cf_log() if e["method"] == "GET"], "never read Cloudflare"
    assert pair.cf_writes() == [], "dry run wrote to Cloudflare"
    assert pair.cf_records() == records_before
    assert pair.cf_settings() == settings_before
    assert pair.local_keys() == keys_before, "dry run changed knotd's DNSKEY RRset"
    assert pair.local_ns() == ns_before, "dry run changed knotd's NS RRset"
    assert not theirs & pair.local_zsks()
    assert pair.stat("changes") == 0
    pair.assert_foreign_untouched()


def test_counters_and_one_log_line_per_change(sync_pair):
    pair = sync_pair
    pair.wait(pair.keys_in_step, pair.keys_timeout, "initial key exchange")
    pair.wait(lambda: pair.stat("sync-passes") >= 1, CHECK_INTERVAL + MARGIN,
              "sync-passes >= 1")
    ours, theirs = pair.our_zsks(), pair.cf_served_zsks()

    stats = pair.stats()
    assert set(stats) >= {"sync-passes", "changes", "api-requests", "api-failures"}, stats
    assert stats["sync-passes"] >= 1
    # At least: one export, one import (and the settings it had to turn on).
    assert stats["changes"] >= len(ours) + len(theirs), stats
    assert stats["api-failures"] == 0, stats

    # api-requests counts what the simulator received from our token; compare in
    # a quiet moment (the log the same before and after reading the counter).
    def quiet_and_counted():
        n1 = len([e for e in pair.cf_log() if e["auth"] == "bearer"])
        counted = pair.stat("api-requests")
        n2 = len([e for e in pair.cf_log() if e["auth"] == "bearer"])
        return (n1, counted) if n1 == n2 and counted == n1 else None

    try:
        n, counted = pair.wait(quiet_and_counted, 2 * CHECK_INTERVAL, "quiet moment",
                               interval=0.3)
    except AssertionError:
        n = len([e for e in pair.cf_log() if e["auth"] == "bearer"])
        counted = pair.stat("api-requests")
    assert n > 0
    assert counted == n, f"api-requests {counted}, simulator received {n}"

    # One line per change, naming the zone, the key tag and the side changed.
    zone_tag = f"[{ZONE}.]"
    lines = [ln for ln in pair.module_lines() if zone_tag in ln]
    for key in ours:
        hits = [ln for ln in lines if str(key.tag) in ln and "Cloudflare" in ln]
        assert hits, f"no log line for exporting ZSK {key.tag} to Cloudflare"
    for key in theirs:
        hits = [ln for ln in lines if str(key.tag) in ln and "knotd" in ln]
        assert hits, f"no log line for importing ZSK {key.tag} into knotd"
    pair.assert_foreign_untouched()



def test_served_not_assumed_keys_unconfirmed_until_cloudflare_serves_them(
        sync_pair_factory, sync_knot_factory):
    """With verify-address, what Cloudflare's nameservers answer decides: a
    nameserver that serves none of our keys leaves our ZSK unconfirmed (the
    rollover gate then holds new keys), and its own signer is reported."""
    # A stand-in for Cloudflare's nameservers that never learned our key.
    cf_ns = sync_knot_factory("cfns")
    cf_ns.add_zone(ZONE, module=None)
    cf_ns.start()
    wait_until(lambda: cf_ns.rrset(ZONE, "DNSKEY"), 10, what="stand-in's DNSKEY RRset")
    stand_in_zsk = next(r for r in cf_ns.rrset(ZONE, "DNSKEY") if r.flags == 256)
    stand_in_tag = dns.dnssec.key_id(stand_in_zsk)

    pair = sync_pair_factory(module_items={"verify_address": f"127.0.0.1@{cf_ns.port}"})
    pair.wait(pair.keys_in_step, pair.keys_timeout, "key exchange through the API")
    (ours,) = pair.our_zsks()
    log = pair.knot.wait_log(f"Cloudflare signs with ZSK {stand_in_tag}", CHECK_INTERVAL + MARGIN)
    assert log
    log = pair.knot.read_log()
    assert "confirming by DNS what Cloudflare serves" in log
    assert f"knotd signs with ZSK {ours.tag} which Cloudflare does not serve" in log
    # Passes after the export: the API has the record, but nothing in the state
    # says Cloudflare serves it (without verify-address it would be confirmed).
    passes = pair.stat("sync-passes")
    pair.wait(lambda: pair.stat("sync-passes") >= passes + 2, 2 * CHECK_INTERVAL + MARGIN,
              "two more passes")
    assert pair.state_files(), "no state file"
    for path, text in pair.state_files().items():
        state = json.loads(text)
        assert not state.get("our_zsks"), f"{path}: {state.get('our_zsks')}"
