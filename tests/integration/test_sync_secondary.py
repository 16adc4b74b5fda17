"""Acceptance tests: Cloudflare as a secondary of a knotd primary (issue 9).

knotd holds the zone, signs it with its own keys, NOTIFYs the simulator and
lets it transfer the zone (acl: transfer from 127.0.0.1). The simulator plays
a Cloudflare zone of type "secondary": it pulls the zone by AXFR/IXFR on each
NOTIFY, lists the transferred apex DNSKEY and NS records read-only through
the API, and refuses (and counts) every record write. The module must:

- turn on DNSSEC with dnssec_multi_signer (and multi_provider);
- write no record through the API;
- import Cloudflare's ZSK into knotd's DNSKEY RRset (so it is transferred
  back) and add Cloudflare's nameservers to knotd's apex NS;
- let a new local ZSK sign only once Cloudflare lists it (by transfer) and
  has had it for TTL_K (the rollover gate);
- follow Cloudflare's own ZSK rollover (import, then removal after the hold);
- warn, naming zone and key, when the transfer does not bring our ZSK in time.

Timing comes from the policy (FAST_POLICY: DNSKEY TTL 10 s) and the module's
check interval (10 s); Cloudflare's DNSKEY TTL is 60 s, so TTL_K is 60 s.
"""
import time

import pytest

from sync_helpers import (CF_NAMESERVERS, CHECK_INTERVAL, FAST_POLICY, FIRST_CHECK_WITHIN, MARGIN,
                          WRITE_METHODS,
                          ZONE, Key, Pair, configure_module, fast_zone_text, rollover_bounds)
from sync_helpers import sync_knot_factory  # noqa: F401 (fixture)

HOLD_TIME = 20            # seconds; hold-time for Cloudflare's removed keys
IMPORT_MARGIN = 3.0       # a new Cloudflare key is in knotd within the next check + this
TRANSFER_LIMIT = 3.0      # knotd's NOTIFY + the simulator's pull, on loopback


class SecondaryPair(Pair):
    """A Pair whose Cloudflare zone is a secondary of the knotd."""

    def start(self):
        super().start()
        # knotd may have moved to another port on a bind race: follow it.
        self.cf.set_secondary(self.zone, primary=["127.0.0.1", self.knot.port])
        return self

    def cf_listed_keys(self):
        """The DNSKEYs the API lists for the zone: what came by transfer."""
        return {Key.from_cf_record(r) for r in self.cf_records("DNSKEY")}

    def cf_listed_ns(self):
        return {r["content"] for r in self.cf_records("NS") if r["name"] == self.zone}

    def write_attempts(self):
        return self.cf_zone()["write_attempts"]

    def record_writes(self):
        """Record writes the module sent (all refused on a secondary zone)."""
        return [e for e in self.cf_log() if e["method"] in WRITE_METHODS
                and "/dns_records" in e["path"]]

    def assert_no_record_writes(self):
        assert self.write_attempts() == 0, f"record writes were tried: {self.record_writes()}"
        assert self.record_writes() == []

    def sig_tags(self):
        """Key tags of the RRSIGs knotd serves over the SOA and the NS set."""
        return self.soa_sig_tags() | {rd.key_tag for rd in (self._answer("NS")[1] or [])}

    def transfers(self):
        return self.cf_zone()["secondary"]["transfers"]

    def describe(self):
        extra = ""
        try:
            z = self.cf_zone()
            extra = (f"--- simulator lists DNSKEY {sorted(k.tag for k in self.cf_listed_keys())}"
                     f" NS {sorted(self.cf_listed_ns())}; serial {z['secondary']['serial']}, "
                     f"notifies {z['secondary']['notifies']}, last transfers "
                     f"{z['secondary']['transfers'][-3:]}, write attempts "
                     f"{z['write_attempts']}\n")
        except Exception as e:   # diagnostics must never hide the real failure
            extra = f"<{type(e).__name__}: {e}>\n"
        return extra + super().describe()


@pytest.fixture
def secondary_pair_factory(sync_knot_factory, cfsim_factory):
    """make(module_items=None, text=None, paused=False, start=True) -> SecondaryPair."""
    def make(module_items=None, text=None, paused=False, start=True):
        cf = cfsim_factory(options={"dnskey_ttl": 60})
        knot = sync_knot_factory("primary")
        knot.policy = dict(FAST_POLICY)
        zone = cf.create_zone(ZONE, type="secondary", name_servers=CF_NAMESERVERS,
                              primary=["127.0.0.1", knot.port])
        if paused:
            cf.set_secondary(ZONE, transfers_paused=True)
        knot.remotes["cloudflare"] = f"127.0.0.1@{cf.notify_port()}"
        configure_module(knot, cf, **(module_items or {}))
        knot.add_zone(ZONE, module="cf", text=text or fast_zone_text(),
                      extra_conf=knot.zone_acl_conf() + "    notify: cloudflare\n")
        pair = SecondaryPair(knot, cf)
        pair.cf_zone_id = zone["id"]
        if start:
            pair.start()
        return pair

    return make


def wait_joined(pair):
    """The whole join: setup, keys both ways, then Cloudflare's NS (rule 8)."""
    pair.wait(lambda: pair.cf_dnssec_on() and pair.cf_zone()["dnssec"]["dnssec_multi_signer"],
              pair.keys_timeout, "DNSSEC with multi-signer on at Cloudflare")
    theirs = pair.cf_served_zsks()
    pair.wait(lambda: theirs <= pair.local_zsks(), pair.keys_timeout,
              "Cloudflare's ZSK imported into knotd")
    pair.wait(lambda: pair.our_zsks() and pair.our_zsks() | theirs <= pair.cf_listed_keys(),
              CHECK_INTERVAL + TRANSFER_LIMIT,
              "our ZSK and Cloudflare's (imported) listed at Cloudflare by transfer")
    pair.wait(lambda: set(CF_NAMESERVERS) <= pair.local_ns(), pair.ns_timeout,
              "Cloudflare's nameservers in knotd's apex NS")
    pair.wait(lambda: set(CF_NAMESERVERS) <= pair.cf_listed_ns(), TRANSFER_LIMIT,
              "the merged NS set listed at Cloudflare by transfer")
    return theirs


@pytest.mark.slow
def test_initial_setup_by_transfer_writes_no_records(secondary_pair_factory):
    pair = secondary_pair_factory()
    t0 = time.monotonic()
    theirs = wait_joined(pair)
    print(f"joined in {time.monotonic() - t0:.1f} s (TTL_K {pair.ttl_k} s)")
    assert pair.cf_settings()["multi_provider"] is True
    # What Cloudflare serves: its keys and ours, our KSK too (for its CDS/CDNSKEY).
    served = {Key.from_text(line.split("DNSKEY", 1)[1]) for line in pair.cf_served()["dnskey"]}
    assert pair.our_zsks() | theirs | pair.local_ksks() <= served
    assert pair.original_ns <= pair.cf_listed_ns(), "our own NS must travel in the transfer"
    done = [t["kind"] for t in pair.transfers() if t["error"] is None]
    assert "AXFR" in done and "IXFR" in done, pair.transfers()
    assert pair.validate_apex("DNSKEY") == {k.tag for k in pair.local_ksks()}
    pair.assert_never_signs_with(theirs)
    pair.assert_no_record_writes()
    assert not [ln for ln in pair.module_lines() if "exporting ZSK" in ln or
                "adding NS" in ln and "at Cloudflare" in ln]


@pytest.mark.slow
def test_no_record_write_with_explicit_setting_and_conflict_refused(secondary_pair_factory):
    # cloudflare-setup: full against a secondary zone: nothing at all, one warning.
    pair = secondary_pair_factory(module_items={"cloudflare_setup": "full"})
    pair.knot.wait_log("cloudflare-setup is full but the Cloudflare zone is a secondary zone",
                       timeout=CHECK_INTERVAL + MARGIN)
    assert pair.cf_writes() == [], "a refused setup must change nothing at Cloudflare"
    assert pair.write_attempts() == 0
    assert not pair.cf_dnssec_on()
    # cloudflare-setup: secondary agrees: the join runs, still without a record write.
    pair.knot.stop()
    pair.knot.mod_sections["cf"]["cloudflare-setup"] = "secondary"
    pair.start()
    wait_joined(pair)
    pair.assert_no_record_writes()
    methods = {(e["method"], e["path"].rsplit("/", 1)[-1]) for e in pair.cf_writes()}
    assert methods <= {("PATCH", "dnssec"), ("PATCH", "dns_settings")}, methods


@pytest.mark.slow
def test_local_zsk_rollover_reaches_cloudflare_by_transfer_before_it_signs(
        secondary_pair_factory):
    pair = secondary_pair_factory()
    bounds = rollover_bounds(pair)
    theirs = wait_joined(pair)
    (old,) = pair.our_zsks()

    t_cmd = time.monotonic()
    pair.knot.knotc("zone-key-rollover", ZONE, "zsk")
    new = t_local = t_cf = t_sign = None
    deadline = t_cmd + bounds["activation"]
    while time.monotonic() < deadline and t_sign is None:
        listed = pair.cf_listed_keys()            # Cloudflare first, then knotd
        now_cf = time.monotonic()
        zsks, sigs = pair.our_zsks(), pair.sig_tags()
        now = time.monotonic()
        if new is None and zsks - {old}:
            (new,) = zsks - {old}
            t_local = now
        if new is not None and t_cf is None and new in listed:
            t_cf = now_cf
        if new is not None and new.tag in sigs:
            t_sign = now
            assert t_cf is not None, \
                f"knotd signs with ZSK {new.tag} before Cloudflare lists it\n{pair.describe()}"
        time.sleep(0.05)
    assert new is not None and t_cf is not None and t_sign is not None, pair.describe()
    print(f"new ZSK {new.tag}: listed at Cloudflare {t_cf - t_local:.2f} s after knotd "
          f"published it, signs {t_sign - t_cf:.1f} s after that (TTL_K {pair.ttl_k} s)")
    assert t_cf - t_local <= TRANSFER_LIMIT + 1.0, pair.describe()
    assert t_sign - t_cf >= pair.ttl_k - 1.0, \
        f"signed {t_sign - t_cf:.1f} s after Cloudflare listed it, before TTL_K\n" \
        f"{pair.describe()}"
    # The old key leaves knotd, then Cloudflare's listing by the next transfer.
    pair.wait(lambda: old not in pair.local_zsks(), bounds["removal"] + pair.ttl_k,
              f"old ZSK {old.tag} leaving knotd")
    pair.wait(lambda: old not in pair.cf_listed_keys(), TRANSFER_LIMIT,
              f"old ZSK {old.tag} gone from Cloudflare's listing by transfer")
    assert pair.our_zsks() == {new} and new in pair.cf_listed_keys()
    assert theirs <= pair.local_zsks()
    pair.assert_no_record_writes()
    print(f"whole rollover {time.monotonic() - t_cmd:.1f} s")


@pytest.mark.slow
def test_cloudflare_zsk_rollover_imported_transferred_then_removed(secondary_pair_factory):
    pair = secondary_pair_factory(module_items={"hold_time": str(HOLD_TIME)})
    (k1,) = wait_joined(pair)

    keys = pair.cf.zsk_rollover(ZONE, "publish")
    k2 = Key.from_sim_key(next(z for z in keys["zsks"] if z["tag"] == "publish"))
    pair.wait(lambda: k2 in pair.local_zsks(), FIRST_CHECK_WITHIN + IMPORT_MARGIN,
              f"Cloudflare's new ZSK {k2.tag} imported into knotd", interval=0.1)
    pair.wait(lambda: k2 in pair.cf_listed_keys(), TRANSFER_LIMIT,
              f"Cloudflare's new ZSK {k2.tag} transferred back")
    pair.cf.zsk_rollover(ZONE, "activate")
    pair.hold(lambda: {k1, k2} <= pair.local_zsks(), CHECK_INTERVAL + 2,
              "both Cloudflare ZSKs in knotd while K1 is retired")
    pair.cf.zsk_rollover(ZONE, "remove")
    t_rm = time.monotonic()
    t_gone = pair.wait(lambda: k1 not in pair.local_zsks() and time.monotonic(),
                       HOLD_TIME + 2 * CHECK_INTERVAL + MARGIN,
                       f"removed ZSK {k1.tag} leaving knotd after the hold time")
    assert t_gone - t_rm >= HOLD_TIME - 1.0
    pair.wait(lambda: k1 not in pair.cf_listed_keys(), TRANSFER_LIMIT,
              f"removed ZSK {k1.tag} gone from the transferred listing")
    assert k2 in pair.local_zsks()
    pair.assert_never_signs_with({k1, k2})
    pair.assert_no_record_writes()


@pytest.mark.slow
def test_transfer_that_does_not_come_is_reported(secondary_pair_factory):
    """Transfers held back at Cloudflare: our ZSK never arrives; past SOA
    refresh + two check intervals a warning names the zone and the key."""
    refresh = 5
    text = fast_zone_text().replace("1 3600 600 86400 10", f"1 {refresh} 600 86400 10")
    assert f"1 {refresh} 600" in text
    pair = secondary_pair_factory(text=text, paused=True)
    (ours,) = pair.our_zsks()
    limit = refresh + 2 * CHECK_INTERVAL
    t0 = time.monotonic()
    needle = f"Cloudflare does not serve our ZSK {ours.tag},"
    pair.wait(lambda: any(needle in ln for ln in pair.module_lines()),
              limit + CHECK_INTERVAL + MARGIN, "the transfer-lag warning")
    waited = time.monotonic() - t0
    line = next(ln for ln in pair.module_lines() if needle in ln)
    print(f"warned after {waited:.1f} s: {line}")
    assert ZONE in line and "notify" in line
    assert waited >= limit - 2.0, f"warned after {waited:.1f} s, before the limit {limit} s"
    assert pair.cf_zone()["secondary"]["notifies"] > 0, "knotd never notified Cloudflare"
    assert pair.cf_listed_keys() == set()
    pair.assert_no_record_writes()
