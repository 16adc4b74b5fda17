"""KSK exchange (issue 5, RFC 8901 rule 6 input): both DNSKEY RRsets hold both KSKs.

Full setup, real knotd 3.2.6 with the module and the simulator:
- our KSK goes to Cloudflare as an owned DNSKEY 257 record and is in the DNSKEY
  RRset the simulator serves;
- Cloudflare's KSK is imported into knotd public only (no ready/active timer):
  it is in knotd's DNSKEY RRset, the RRset is signed by our KSK only, and knotd
  keeps it out of CDS/CDNSKEY;
- a real KSK rollover of ours (zone-key-rollover ksk, zone-ksk-submitted) still
  runs with the foreign KSK present: the new KSK reaches Cloudflare once published,
  the old record goes only after knotd has dropped the old KSK;
- foreign records, a hand-made DNSKEY 257 among them, are never touched.
"""
import time

import pytest

from cfsim.keys import FLAGS_KSK, DnssecKey
from sync_helpers import (CF_DNSKEY_TTL, CHECK_INTERVAL, FAST_POLICY, MARGIN, Key,
                          fast_zone_text)
from sync_helpers import sync_knot_factory, sync_pair_factory  # noqa: F401 (fixtures)

# Knot's KSK steps with FAST_POLICY (dnskey-ttl 10, propagation-delay 1): the
# new KSK is ready after about 11 s, the old one leaves about 11 s after
# zone-ksk-submitted. Each bound adds a check interval and a margin.
KSK_STEP = 11 + CHECK_INTERVAL + MARGIN


def served_keys(pair):
    return {Key.from_text(line.split(None, 4)[4]) for line in pair.cf_served()["dnskey"]}


def cf_ksk(pair):
    return Key.from_sim_key(pair.cf.keys(pair.zone)["ksk"])


def cds_tags(pair, rdtype):
    rrset = pair._answer(rdtype)[0]
    return set() if rrset is None else {rd.key_tag if rdtype == "CDS" else
                                        Key.from_rdata(rd).tag for rd in rrset}


def keymgr_entry(pair, key):
    return next(k for k in pair.keymgr_keys() if k["tag"] == key.tag)


def plant_foreign_ksk(pair):
    rec = {"type": "DNSKEY", "name": pair.zone, "ttl": CF_DNSKEY_TTL,
           "comment": "third signer's KSK, added by hand",
           "data": {"flags": 257, "protocol": 3, "algorithm": 13,
                    "public_key": DnssecKey(FLAGS_KSK).public_b64}}
    made = pair.cf.add_record(pair.zone, rec, validate=False)
    made = made.get("record", made)
    pair.foreign[made["id"]] = pair._snapshot(made)


def ksks_in_step(pair):
    ours, theirs = pair.local_ksks(), cf_ksk(pair)
    return bool(ours) and pair.cf_our_ksks() == ours and ours <= served_keys(pair) \
        and theirs in pair.local_all_ksks()


@pytest.mark.slow
def test_ksks_exchanged_and_our_ksk_rollover_followed(sync_pair_factory):
    pair = sync_pair_factory(policy=dict(FAST_POLICY, **{"cds-cdnskey-publish": "always"}),
                             text=fast_zone_text(), start=False)
    plant_foreign_ksk(pair)
    pair.start()
    pair.wait(pair.keys_in_step, pair.keys_timeout, "initial ZSK exchange")
    pair.wait(lambda: ksks_in_step(pair), pair.keys_timeout, "both KSKs on both sides")

    # Our KSK: one owned 257 record, served by Cloudflare.
    (k1,) = pair.local_ksks()
    records = [r for r in pair.cf_our_dnskey_records() if Key.from_cf_record(r) == k1]
    assert len(records) == 1, records
    assert k1 in served_keys(pair)

    # Cloudflare's KSK in knotd: public only, no ready/active timer, not a signer,
    # not in CDS/CDNSKEY (with `always`, knotd's sets hold our KSK only).
    theirs = cf_ksk(pair)
    entry = keymgr_entry(pair, theirs)
    assert entry.get("ksk") and entry.get("public-only"), entry
    assert not entry.get("ready") and not entry.get("active"), entry
    assert pair.validate_apex("DNSKEY") == {k1.tag}
    pair.wait(lambda: cds_tags(pair, "CDS") == {k1.tag} == cds_tags(pair, "CDNSKEY"),
              CHECK_INTERVAL + MARGIN, "knotd's CDS/CDNSKEY: our KSK only")

    # Our KSK rollover with the foreign KSK present.
    pair.knot.knotc("zone-ksk-submitted", pair.zone)   # the first KSK's DS is "there"
    pair.knot.knotc("zone-key-rollover", pair.zone, "ksk")
    k2 = pair.wait(lambda: next(iter(pair.local_ksks() - {k1}), None), KSK_STEP,
                   "knotd publishes a new KSK")
    pair.wait(lambda: k2 in pair.cf_our_ksks() and k2 in served_keys(pair),
              CHECK_INTERVAL + MARGIN, "the new KSK at Cloudflare")
    assert k1 in pair.cf_our_ksks(), "the old KSK left Cloudflare while knotd serves it"
    assert theirs in pair.local_all_ksks()

    # knotd waits for the DS of the new KSK (zone-ksk-submitted, repeated until
    # the key is ready); then it retires and drops the old one.
    def old_gone():
        if k1 in pair.local_keys():
            # Until knotd drops k1, its record stays at Cloudflare.
            assert k1 in pair.cf_our_ksks(), "old KSK deleted at Cloudflare too early"
            pair.knot.knotc("zone-ksk-submitted", pair.zone, check=False)
            return False
        return True

    t0 = time.monotonic()
    pair.wait(old_gone, 3 * KSK_STEP, "knotd drops the old KSK", interval=0.5)
    print(f"KSK {k1.tag} -> {k2.tag}: old KSK gone {time.monotonic() - t0:.1f} s after the "
          f"new one reached Cloudflare; Cloudflare's KSK {theirs.tag} stays imported")
    pair.wait(lambda: pair.cf_our_ksks() == {k2}, CHECK_INTERVAL + MARGIN,
              "the old KSK's record deleted at Cloudflare")
    assert k1 not in served_keys(pair)

    # The new KSK alone signs the DNSKEY RRset; Cloudflare's KSK stays imported.
    pair.wait(lambda: pair.validate_apex("DNSKEY") == {k2.tag}, KSK_STEP,
              "DNSKEY RRset signed by the new KSK only")
    assert theirs in pair.local_all_ksks()
    assert keymgr_entry(pair, theirs).get("public-only")
    pair.assert_no_duplicates()
    pair.assert_foreign_untouched()
