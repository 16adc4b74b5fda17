"""Acceptance tests: ZSK rollovers on either side, and a restart in the middle.

How short can a Knot 3.2.6 ZSK rollover be?  Measured on Debian 12's knotd 3.2.6
(no module; `knotc zone-key-rollover <zone> zsk`, served DNSKEY RRset and RRSIG
over SOA polled every 50 ms):

- `knotc conf-check` and knotd accept 0 for dnskey-ttl, propagation-delay and
  zone-max-ttl. The only check is zsk-lifetime >= 2 * propagation-delay +
  dnskey-ttl + zone-max-ttl ("ZSK lifetime too low ..."); 1h passes.
- dnskey-ttl 0 is served as TTL 0 (not "default to SOA TTL"); zone-max-ttl 0 is
  taken as 0 (not "compute from the zone": with propagation-delay 1 the old key
  left 1.0 s after activation); zone-max-ttl is not checked against the zone's
  real TTLs (5 with records at 300 s: the old key still left 6 s after
  activation).
- Timing: the new key is served at once, signs at publish + propagation-delay +
  dnskey-ttl, and the old key leaves at activation + propagation-delay +
  zone-max-ttl:

    dnskey-ttl / propagation-delay / zone-max-ttl   new key signs   old key gone
    0 / 0 / 0                                        same poll       same poll
    1 / 0 / 1                                        1.0 s           2.0 s
    5 / 1 / 5                                        6.0 s           12.0 s
    10 / 1 / 10                                      11.0 s          22.0 s
    60 / 2 / 300 (test_sync.py's policy)             62 s (formula)  +302 s (formula)

  0/0/0 has no pre-publication window at all, so nothing could reach Cloudflare
  before the key signs. These tests use 10 / 1 / 10 (FAST_POLICY): an 11 s window,
  well above the 2 s export limit and the 20 ms polling, and a whole rollover of
  about 22 s.
- Cloudflare's records cannot have a TTL below 60 s (1 means "automatic"), so
  TTL_K is at least 60 s whatever knotd's dnskey-ttl is. If the module holds
  the new key's activation until Cloudflare has had it for TTL_K (multisigner
  rule 3), activation comes about 60-70 s after publication and the rollover
  about 85 s; the bounds below allow that (sync_helpers.rollover_bounds).
"""
import time

import pytest

from sync_helpers import (CHECK_INTERVAL, FAST_POLICY, FIRST_CHECK_WITHIN, LOCAL_NAMESERVERS,
                          MARGIN, ZONE, Key,
                          fast_zone_text, record_writes, rollover_bounds, run_local_rollover,
                          watch_local_rollover)
from sync_helpers import sync_knot_factory, sync_pair_factory  # noqa: F401 (fixtures)

HOLD_TIME = 20            # seconds; hold-time for Cloudflare's removed keys
IMPORT_MARGIN = 3.0       # a new Cloudflare key is in knotd within the next check + this


@pytest.mark.slow
def test_local_zsk_rollover_reaches_cloudflare_before_it_signs(sync_pair_factory):
    pair = sync_pair_factory(policy=FAST_POLICY, text=fast_zone_text(), by_zone_id=True,
                             nameserver=LOCAL_NAMESERVERS)
    run_local_rollover(pair, "file zone")


@pytest.mark.slow
def test_cloudflare_zsk_rollover_imported_then_held(sync_pair_factory):
    pair = sync_pair_factory(policy=FAST_POLICY, text=fast_zone_text(), start=False)
    has_hold, why = pair.knot.item_supported("cf", "hold-time", str(HOLD_TIME))
    if has_hold:
        pair.knot.mod_sections["cf"]["hold-time"] = str(HOLD_TIME)
    pair.start()
    pair.wait(pair.keys_in_step, pair.keys_timeout, "initial key exchange")
    (k1,) = pair.cf_served_zsks()
    our_ids = sorted(r["id"] for r in pair.cf_our_dnskey_records())

    # publish: Cloudflare pre-publishes K2; knotd serves it within one interval.
    keys = pair.cf.zsk_rollover(ZONE, "publish")
    k2 = Key.from_sim_key(next(z for z in keys["zsks"] if z["tag"] == "publish"))
    t_pub = time.monotonic()
    pair.wait(lambda: k2 in pair.local_zsks(), FIRST_CHECK_WITHIN + IMPORT_MARGIN,
              f"Cloudflare's new ZSK {k2.tag} in knotd's DNSKEY RRset", interval=0.1)
    print(f"Cloudflare's new ZSK {k2.tag} served by knotd {time.monotonic() - t_pub:.2f} s "
          f"after Cloudflare published it")
    assert set(pair.local_dnskey_ttls().values()) == {pair.local_dnskey_ttl}
    assert pair.validate_apex("DNSKEY") == {k.tag for k in pair.local_ksks()}
    pair.assert_never_signs_with({k1, k2})

    # activate: K1 is retired but still served by Cloudflare, so it stays.
    pair.cf.zsk_rollover(ZONE, "activate")
    pair.hold(lambda: {k1, k2} <= pair.local_zsks(), CHECK_INTERVAL + 2,
              "both Cloudflare ZSKs in knotd while K1 is retired")

    # remove: K1 leaves Cloudflare; knotd keeps it for the hold time, then drops it.
    pair.cf.zsk_rollover(ZONE, "remove")
    t_rm = time.monotonic()
    if not has_hold:
        pair.hold(lambda: k1 in pair.local_zsks(), CHECK_INTERVAL + 2,
                  f"removed ZSK {k1.tag} held in knotd")
        pytest.skip("the module has no hold-time item, and the default hold (TTL_K + the "
                    "zone's largest TTL + one check interval, about 80 s here) is too long "
                    f"to wait for in this test; conf-check said: {why.splitlines()[-1]}")
    t_gone = pair.wait(lambda: k1 not in pair.local_zsks() and time.monotonic(),
                       HOLD_TIME + 2 * CHECK_INTERVAL + MARGIN,
                       f"removed ZSK {k1.tag} leaving knotd after the hold time")
    held = t_gone - t_rm
    print(f"Cloudflare's removed ZSK {k1.tag} left knotd {held:.1f} s after removal "
          f"(hold-time {HOLD_TIME} s, check-interval {CHECK_INTERVAL} s)")
    assert held >= HOLD_TIME - 1.0, f"removed ZSK left after {held:.1f} s, before the hold time"
    assert k2 in pair.local_zsks()
    assert k1.tag not in {k["tag"] for k in pair.keymgr_keys() if k.get("public-only")}, \
        "the removed key is still in knotd's key database"
    # Cloudflare's rollover never touches our records.
    assert sorted(r["id"] for r in pair.cf_our_dnskey_records()) == our_ids
    pair.assert_never_signs_with({k1, k2})
    pair.assert_no_duplicates()
    pair.assert_no_orphans()
    pair.assert_foreign_untouched()


@pytest.mark.slow
def test_restart_in_the_middle_of_a_rollover(sync_pair_factory):
    pair = sync_pair_factory(policy=FAST_POLICY, text=fast_zone_text(), tls=True,
                             nameserver=LOCAL_NAMESERVERS)
    bounds = rollover_bounds(pair)
    pair.wait(pair.keys_in_step, pair.keys_timeout, "initial key exchange")
    (old,) = pair.our_zsks()
    theirs = pair.cf_served_zsks()

    pair.knot.knotc("zone-key-rollover", ZONE, "zsk")

    def new_at_cloudflare():
        new = pair.our_zsks() - {old}
        return len(new) == 1 and next(iter(new)) in pair.cf_our_keys() and next(iter(new))

    new = pair.wait(new_at_cloudflare, bounds["prepublish"], "the new ZSK at Cloudflare",
                    interval=0.05)
    # Mid-rollover: the new key is published everywhere, the old one still signs.
    assert old in pair.local_zsks() and old in pair.cf_our_keys()
    new_ids = [r["id"] for r in pair.cf_our_dnskey_records() if Key.from_cf_record(r) == new]
    assert len(new_ids) == 1
    files = pair.state_files()
    assert files, "no state file under <storage>/multisigner/ before the restart"

    seq = pair.cf_last_seq()
    pair.restart()
    assert old in pair.local_zsks(), "the rollover ended before knotd was back: not mid-rollover"
    assert theirs <= pair.local_zsks(), "Cloudflare's ZSK lost across the restart"

    old_ids = {r["id"] for r in pair.cf_our_dnskey_records() if Key.from_cf_record(r) == old}
    pair.wait(lambda: old not in pair.local_zsks(), bounds["activation"] + bounds["removal"],
              f"old ZSK {old.tag} leaving knotd after the restart")
    pair.wait(lambda: not old_ids & {r["id"] for r in pair.cf_dnskey_records()},
              bounds["cf_delete"], f"our record of old ZSK {old.tag} deleted at Cloudflare")

    # No lost key, no duplicate, no orphan; the new key's record is the same one.
    assert pair.our_zsks() == {new}
    assert pair.cf_our_keys() == {new}
    assert [r["id"] for r in pair.cf_our_dnskey_records()
            if Key.from_cf_record(r).flags == 256] == new_ids, \
        "the new key's record was re-created after the restart"
    assert theirs <= pair.local_zsks()
    pair.assert_no_duplicates()
    pair.assert_no_orphans()
    pair.assert_never_signs_with(pair.cf_all_zsks())
    created, deleted = record_writes(pair.cf_log(seq))
    assert not [c for c in created if c[0] == "DNSKEY"], \
        f"DNSKEY records created after the restart: {created}"
    assert set(deleted) <= old_ids, f"records deleted after the restart: {deleted}"
    files = pair.state_files()
    assert files and any(ZONE in text for text in files.values()), files
    pair.assert_foreign_untouched()


API_OUTAGE = 30           # seconds of 503 from every API path during a rollover


@pytest.mark.slow
def test_rollover_gate_holds_new_zsk_through_api_outage(sync_pair_factory):
    """Rule 3 when Cloudflare's API is down: the new ZSK must not sign until the
    API is back, the key is at Cloudflare, and TTL_K has passed after that."""
    pair = sync_pair_factory(policy=FAST_POLICY, text=fast_zone_text())
    pair.wait(pair.keys_in_step, pair.keys_timeout, "initial key exchange")
    (old_key,) = pair.our_zsks()
    pair.cf.add_fault("status", status=503, code=10000, duration=API_OUTAGE,
                      message="Service Unavailable")
    t_outage = time.monotonic()
    pair.knot.knotc("zone-key-rollover", pair.zone, "zsk")
    t_recovered = t_outage + API_OUTAGE
    # Without the module knotd would sign after propagation-delay + dnskey-ttl
    # (11 s): well inside the outage.
    seen = watch_local_rollover(pair, {old_key},
                                API_OUTAGE + 2 * CHECK_INTERVAL + pair.ttl_k + 2 * MARGIN)
    assert seen["key"] is not None, f"knotd never published a new ZSK\n{pair.describe()}"
    assert seen["cf"] is not None and seen["signs"] is not None, pair.describe()
    print(f"new ZSK {seen['key'].tag}: at Cloudflare {seen['cf'] - t_recovered:+.1f} s after "
          f"the API recovered, signs {seen['signs'] - seen['cf']:.1f} s after that "
          f"(TTL_K {pair.ttl_k} s)")
    assert seen["cf"] >= t_recovered - 1.0, "a key reached Cloudflare during the outage?"
    assert seen["signs"] >= seen["cf"] + pair.ttl_k - 1.0, \
        f"knotd signed with ZSK {seen['key'].tag} before Cloudflare had served it for " \
        f"TTL_K\n{pair.describe()}"
    assert "holding ZSK %d: Cloudflare has not confirmed it yet" % seen["key"].tag \
        in pair.knot.read_log()
    pair.assert_no_duplicates()
    pair.assert_foreign_untouched()
