"""Fault injection: knotd with mod-multisigner against a Cloudflare API that fails.

One pair (knotd + simulator, sync_helpers.py) is brought in step once for the
whole file (keys and nameservers, which takes TTL_K = 60 s); every test then
gives the module work to do, injects a fault, and checks three things:

  (a) knotd answers DNS queries throughout (a bounded query loop on its
      loopback port, from before the fault until the module has converged);
  (b) once the fault ends, the module converges: our ZSK at Cloudflare,
      Cloudflare's ZSKs (including the one it just published) in knotd, the
      nameservers in step;
  (c) nothing needed was deleted, during the fault or after it: our keys in
      knotd and its key database, our records at Cloudflare, and the
      administrator's records at Cloudflare untouched.

The work: Cloudflare publishes a new ZSK (to import) and one of our NS records
disappears at Cloudflare (to re-create), so reads and writes both meet the fault.
The tests share the pair, so they run in file order; the state-file tests,
which restart knotd, come last. doc/hardening.md has the table of faults.
"""
import datetime
import json
import os
import threading
import time

import dns.message
import dns.query
import dns.rcode
import pytest

from conftest import instance_factory
from fixtures_cfsim import CfsimHandle
from cfsim import Simulator
from sync_helpers import CHECK_INTERVAL, MARGIN, ZONE, Key, SyncKnot, make_pair

ALL_ON = {"dnssec": {"status": "active", "dnssec_multi_signer": True},
          "dns_settings": {"multi_provider": True}}
HOLD_TIME = 2            # s: a ZSK Cloudflare dropped leaves knotd soon after (sharper (c))
# After a fault ends the next pass comes within the retry back-off (at most one
# check interval); it imports, exports and re-checks.
CONVERGE = 2 * CHECK_INTERVAL + MARGIN
HIT_TIMEOUT = CHECK_INTERVAL + MARGIN   # the module meets an injected fault by then
QUERY_TIMEOUT = 2.0      # s: every query knotd gets during a test is answered within this


# ---- the shared pair -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def pair(tmp_path_factory, module_so):
    knots = instance_factory(SyncKnot, str(tmp_path_factory.mktemp("faults")), module_so)
    make_knot = next(knots)
    sims = []

    def make_cf(tls=False, **kw):
        sim = Simulator(tls=tls, **kw).start()
        sims.append(sim)
        return CfsimHandle.for_simulator(sim)

    try:
        p = make_pair(make_knot, make_cf, cf_zone=ALL_ON, start=False,
                      module_items={"hold_time": HOLD_TIME})
        # Two more DNSKEY records of the administrator's, listed before ours:
        # the listing test deletes one between two pages.
        p.churn = [p.cf.add_record(ZONE, {"type": "DNSKEY", "name": ZONE, "ttl": 60,
                                          "comment": f"churn {i}",
                                          "data": other_key_data()}, validate=False)["id"]
                   for i in range(2)]
        p.start()
        p.wait(p.keys_in_step, p.keys_timeout, "initial key exchange")
        p.wait(p.ns_in_step, p.ns_timeout, "initial nameserver merge")
        failed = [ln for ln in p.module_lines() if "failed:" in ln or "incomplete" in ln]
        assert not failed, "the initial sync, with nothing wrong, failed:\n" + "\n".join(failed)
        yield p
    finally:
        next(knots, None)
        for sim in sims:
            sim.stop()


def other_key_data():
    from cfsim.keys import DnssecKey, FLAGS_ZSK
    return {"flags": 256, "protocol": 3, "algorithm": 13,
            "public_key": DnssecKey(FLAGS_ZSK).public_b64}


# ---- (a) knotd keeps answering ---------------------------------------------------------------
class QueryLoop:
    """Queries knotd (SOA over UDP, DNSKEY over TCP, in turn) until stopped, at
    most 10 000 times; every query must be answered, NOERROR, in time."""

    def __init__(self, knot, interval=0.05):
        self.knot = knot
        self.interval = interval
        self.failures = []
        self.count = 0
        self.slowest = 0.0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _one(self, rdtype, tcp):
        q = dns.message.make_query(ZONE, rdtype, want_dnssec=True)
        send = dns.query.tcp if tcp else dns.query.udp
        t0 = time.monotonic()
        try:
            r = send(q, "127.0.0.1", port=self.knot.port, timeout=QUERY_TIMEOUT)
        except Exception as e:     # noqa: BLE001 (any failure to answer counts)
            self.failures.append(f"{rdtype}: {type(e).__name__}: {e}")
            return
        self.slowest = max(self.slowest, time.monotonic() - t0)
        if r.rcode() != dns.rcode.NOERROR or not r.answer:
            self.failures.append(f"{rdtype}: rcode {dns.rcode.to_text(r.rcode())}, "
                                 f"{len(r.answer)} answer RRsets")

    def _run(self):
        for i in range(10000):
            if self.stop_event.is_set():
                return
            self._one("SOA", False) if i % 2 == 0 else self._one("DNSKEY", True)
            self.count += 1
            self.stop_event.wait(self.interval)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.thread.join(timeout=2 * QUERY_TIMEOUT + 1)

    def check(self, label):
        print(f"[{label}] knotd answered {self.count - len(self.failures)}/{self.count} "
              f"queries, slowest {self.slowest * 1000:.0f} ms")
        assert self.count > 0, "the query loop never ran"
        assert not self.failures, f"knotd failed to answer: {self.failures[:5]}"


# ---- (b) and (c) ----------------------------------------------------------------------------
def in_step(pair):
    return pair.keys_in_step() and pair.ns_in_step()


def own_key_ids(pair):
    """knotd's own keys in its key database (not imported ones)."""
    return {k["id"] for k in pair.keymgr_keys() if not k.get("public-only")}


class Needed:
    """What must survive a fault: taken before it, checked during and after."""

    def __init__(self, pair):
        self.ours = pair.our_zsks()
        self.theirs = pair.cf_served_zsks() & pair.local_zsks()
        self.own_ids = own_key_ids(pair)
        self.our_records = {r["id"] for r in pair.cf_our_dnskey_records()}
        assert self.ours and self.theirs and self.own_ids and self.our_records

    def check(self, pair, when):
        local = pair.local_zsks()
        assert self.ours <= local, f"{when}: our ZSK left knotd\n{pair.describe()}"
        assert self.theirs <= local, \
            f"{when}: a ZSK Cloudflare serves left knotd\n{pair.describe()}"
        assert self.own_ids <= own_key_ids(pair), f"{when}: a key left knotd's key database"
        left = self.our_records - {r["id"] for r in pair.cf_our_dnskey_records()}
        assert not left, f"{when}: our DNSKEY records were deleted at Cloudflare: {left}"
        pair.assert_foreign_untouched()


def finish_cf_rollover(pair):
    """Cloudflare finishes the rollover an earlier test began: its published
    ZSK becomes active and the old one goes (knotd drops it after the hold
    time, which is no fault of anyone's)."""
    tags = {z["tag"] for z in pair.cf.keys(ZONE)["zsks"]}
    if "publish" in tags:
        pair.cf.zsk_rollover(ZONE, "activate")
        tags = {z["tag"] for z in pair.cf.keys(ZONE)["zsks"]}
    if "retired" in tags:
        pair.cf.zsk_rollover(ZONE, "remove")


def give_work(pair, needed):
    """Cloudflare publishes a new ZSK and our DNSKEY record disappears at
    Cloudflare: an import and an export to do. Returns Cloudflare's new ZSK."""
    pair.cf.zsk_rollover(ZONE, "publish")
    new = {Key.from_sim_key(z) for z in pair.cf.keys(ZONE)["zsks"] if z["tag"] == "publish"}
    for rid in needed.our_records:
        pair.cf.delete_record(ZONE, rid)
    needed.our_records = set()
    return new


def faulted(pair, since):
    return [e for e in pair.cf_log(since) if e.get("fault") or e.get("status") in (401, 403, 429)]


def hits(n):
    """met(): at least n requests since the fault began met it."""
    return lambda pair, seq: len(faulted(pair, seq)) >= n


def run_fault(pair, label, start, stop, met, blocks=True, during=None, met_timeout=HIT_TIMEOUT,
              converge=CONVERGE):
    """The shared shape: work, fault, checks during it, end of the fault,
    convergence, checks after it. start(pair) injects the fault, stop(pair)
    ends it; met(pair, seq) tells when the module has met it enough; blocks:
    the fault keeps Cloudflare's new ZSK out of knotd while it lasts;
    during(pair): more checks while it lasts. Returns the log position at start."""
    finish_cf_rollover(pair)
    pair.wait(lambda: in_step(pair), CONVERGE, "in step before the fault")
    needed = Needed(pair)
    with QueryLoop(pair.knot) as queries:
        seq = pair.cf_last_seq()
        new = give_work(pair, needed)
        start(pair)
        t0 = time.monotonic()
        pair.wait(lambda: met(pair, seq), met_timeout, f"the module meeting the fault ({label})")
        needed.check(pair, "during the fault")
        if blocks:
            assert not new & pair.local_zsks(), \
                f"Cloudflare's new ZSK reached knotd through the fault\n{pair.describe()}"
        if during:
            during(pair)
        stop(pair)
        t_end = time.monotonic()
        pair.wait(lambda: in_step(pair) and new <= pair.local_zsks(), converge,
                  f"convergence after {label}")
        print(f"[{label}] {len(faulted(pair, seq))} requests met the fault over "
              f"{t_end - t0:.1f} s; in step {time.monotonic() - t_end:.1f} s after it ended")
        needed.our_records = {r["id"] for r in pair.cf_our_dnskey_records()}
        needed.check(pair, "after the fault")
    queries.check(label)
    pair.assert_no_duplicates()
    pair.assert_no_orphans()
    return seq


# ---- faults of the transport and the body ---------------------------------------------------
def add_faults(*specs):
    """start(): the faults in order (each `count` times), all within `duration`."""
    def start(pair):
        for kind, spec in specs:
            pair.cf.add_fault(kind, **spec)
    return start


def clear(pair):
    pair.cf.clear_faults()


# A pass meets at most four of them (the client's attempts at one request).
BAD_BODIES = ("truncated", "malformed_json", "html", "empty", "wrong_types")

FAULTS = {
    "5xx-burst": (add_faults(("status", {"status": 500, "count": 3}),
                             ("status", {"status": 502, "code": 10000, "count": 3}),
                             ("status", {"status": 503, "count": 3,
                                         "message": "Service Unavailable"})), 3),
    "dropped": (add_faults(("drop", {"count": 3}), ("reset", {"count": 3})), 4),
    "bad-bodies": (add_faults(*[(kind, {"count": 2}) for kind in BAD_BODIES[:-1]],
                              (BAD_BODIES[-1], {"count": 3})), None),
    "oversized": (add_faults(("oversized", {"count": 2})), 1),
}


@pytest.mark.parametrize("label", list(FAULTS))
def test_transport_and_body_faults(pair, label):
    start, n = FAULTS[label]
    if n is not None:
        run_fault(pair, label, start, clear, hits(n))
        return
    # Every fault used up: they take several passes.
    seq = run_fault(pair, label, start, clear, all_used, met_timeout=3 * CHECK_INTERVAL + MARGIN)
    kinds = {e["fault"] for e in pair.cf_log(seq) if e.get("fault")}
    assert kinds == set(BAD_BODIES), kinds


def all_used(pair, seq):
    return all(f["remaining"] == 0 for f in pair.cf.admin("GET", "/faults")["faults"])


RETRY_AFTER = 25         # s: longer than the client's longest back-off (20 s)


def log_time(entry):
    return datetime.datetime.strptime(entry["time"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def test_429_storm_with_long_retry_after(pair):
    """Every request answered 429 with a retry-after longer than the client
    would wait: the module sends nothing more until it has passed (more
    requests would only extend Cloudflare's block), then converges."""
    seq = run_fault(pair, "429-storm",
                    add_faults(("status", {"status": 429, "retry_after": RETRY_AFTER})),
                    clear, hits(1), converge=RETRY_AFTER + CONVERGE)
    log = pair.cf_log(seq)
    first = next(i for i, e in enumerate(log) if e["status"] == 429)
    after = log[first + 1:]
    assert after, "no request after the 429"
    quiet = log_time(after[0]) - log_time(log[first])
    print(f"[429-storm] next request {quiet:.1f} s after the 429 (retry-after {RETRY_AFTER} s)")
    assert quiet >= RETRY_AFTER - 1, \
        f"a request {quiet:.1f} s after a 429 with retry-after {RETRY_AFTER}: {after[0]}"


HANG = 35.0              # s: longer than the client's 30 s request timeout


def test_requests_that_hang(pair):
    """One request gets no answer for longer than the client waits: the module
    gives up on it (low-speed limit or request timeout) and goes on."""
    held = {}

    def gave_up(p, seq):
        """The simulator holds a request, and a later one has been answered."""
        if "time" not in held:
            flight = p.cf.in_flight()
            if flight:
                held["time"] = flight[0]["time"]
            return False
        return any(e["time"] > held["time"] for e in p.cf_log(seq))

    seq = run_fault(pair, "hang", add_faults(("delay", {"delay": HANG, "count": 1})), clear,
                    gave_up, blocks=False, met_timeout=HIT_TIMEOUT + HANG)
    hung = log_time({"time": held["time"]})
    later = sorted(log_time(e) - hung for e in pair.cf_log(seq) if log_time(e) > hung)
    print(f"[hang] next request {later[0]:.1f} s after the hung one began")
    # Given up at the low-speed limit (20 s without a byte) or the request
    # timeout (30 s), whichever comes first; not waited out.
    assert 15 <= later[0] < HANG, f"next request {later[0]:.1f} s after the hung one"


def test_token_revoked_mid_run_then_restored(pair):
    token = pair.cf.token

    def revoke(p):
        p.cf.revoke_token(token)

    def restore(p):
        p.cf.add_token(token)

    run_fault(pair, "token-revoked", revoke, restore, hits(2))
    assert any("9109" in ln or "Invalid access token" in ln for ln in pair.module_lines()), \
        "the refused token was not reported"


def test_records_change_between_pages(pair):
    """Two records per page; after the second page of a listing an earlier
    record of the administrator's goes and a new one comes (the total stays the
    same), so the rest of the listing shifts under the module."""
    pair.cf.set_page_size(2, 2)
    added = []

    def start(p):
        gone = p.churn.pop(0)
        record = {"type": "DNSKEY", "name": ZONE, "ttl": 60, "comment": "churn new",
                  "data": other_key_data()}
        p.cf.add_trigger({"op": "delete_record", "zone": ZONE, "id": gone},
                         method="GET", path="/dns_records$", after=2)
        p.cf.add_trigger({"op": "add_record", "zone": ZONE, "record": record,
                          "validate": False}, method="GET", path="/dns_records$", after=2)
        added.append(record["data"]["public_key"])

    def fired(p, seq):
        return not p.cf.admin("GET", "/faults")["triggers"]

    try:
        run_fault(pair, "pages-change", start, lambda p: None, fired, blocks=False)
        assert pair.cf.sim.trigger_errors == []
        keys = [r["data"]["public_key"] for r in pair.cf_dnskey_records()]
        assert added[0] in keys, "the record added between two pages was deleted"
    finally:
        pair.cf.set_page_size(100, 5000000)


# ---- Cloudflare lists a ZSK that must never reach our zone ------------------------------------
BAD_KEYS = {
    # RSA/SHA-256 (algorithm 8): rule 1, one algorithm for both signers.
    "wrong-algorithm": {"algorithm": 8, "public_key":
                        "AwEAAcFcGsaxxdgiuuGmCkVImy4h99CqT7jwY3pexPGcnUFtR2Fh36BponcwtkZ4cAgtv"
                        "d4Qs8PkxUdp6p/DlUmObdk="},
    # Valid base64, algorithm 13, but 32 bytes: not a P-256 point (64 bytes).
    "short-key": {"public_key": "q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k="},
    # Not base64 at all.
    "not-base64": {"public_key": "this is %% not base64 ***"},
}


@pytest.mark.parametrize("label", list(BAD_KEYS))
def test_cloudflare_lists_a_bad_zsk(pair, label):
    fields = BAD_KEYS[label]
    bad_tag = {}

    def start(p):
        bad_tag["tag"] = p.cf.add_raw_zsk(ZONE, tag="active", **fields)

    def stop(p):
        p.cf.set_zsk_tag(ZONE, bad_tag["tag"], "removed")

    def bad_reached_knotd():
        served = {k.tag for k in pair.local_keys()}
        kasp = {k["tag"] for k in pair.keymgr_keys()}
        return bad_tag["tag"] in served or bad_tag["tag"] in kasp

    def reports():
        return [ln for ln in pair.module_lines()[lines_before:]
                if str(bad_tag["tag"]) in ln or "public key" in ln]

    def reported(p, seq):
        """A pass has read the ZSK list holding the bad key and said so."""
        return bool(reports())

    def not_in_knotd(p):
        assert not bad_reached_knotd(), f"Cloudflare's bad key {bad_tag} reached knotd"

    lines_before = len(pair.module_lines())
    # A key that does not parse (not base64, not a P-256 point) spoils the
    # whole listing: nothing is imported meanwhile. Another algorithm parses
    # and only that key is left out.
    seq = run_fault(pair, label, start, stop, reported, blocks=(label != "wrong-algorithm"),
                    during=not_in_knotd, met_timeout=2 * CHECK_INTERVAL + MARGIN)
    not_in_knotd(pair)
    print(reports()[0])
    assert [e for e in pair.cf_log(seq) if e["path"].endswith("/dnssec/zsk")]


# ---- the state file, at start ----------------------------------------------------------------
def state_path(pair):
    return os.path.join(pair.knot.dir, "multisigner", f"{ZONE}.json")


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_state_file_damaged_at_start(pair, damage):
    pair.wait(lambda: in_step(pair), CONVERGE, "in step before the restart")
    needed = Needed(pair)
    records_before = {r["id"] for r in pair.cf_records()}
    pair.knot.stop()
    path = state_path(pair)
    assert os.path.exists(path)
    if damage == "corrupt":
        with open(path) as f:
            text = f.read()
        json.loads(text)
        with open(path, "w") as f:
            f.write(text[: len(text) // 2] + "\x00garbage")
    else:
        os.unlink(path)
    seq = pair.cf_last_seq()
    pair.start()
    with QueryLoop(pair.knot) as queries:
        pair.wait(lambda: pair.stat("sync-passes") >= 2, CONVERGE, "two passes after the restart")
        pair.wait(lambda: in_step(pair), CONVERGE, "in step after the restart")
        needed.check(pair, "after the restart")
    queries.check(f"state-{damage}")
    if damage == "corrupt":
        assert any("cannot use saved state" in ln for ln in pair.module_lines())
    deleted = [e for e in pair.cf_log(seq) if e["method"] == "DELETE"]
    assert not deleted, f"deleted at Cloudflare after a {damage} state file: {deleted}"
    assert records_before <= {r["id"] for r in pair.cf_records()}
    pair.assert_no_duplicates()
    assert os.path.exists(path) and json.loads(open(path).read()), "state not saved again"
