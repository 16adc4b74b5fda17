"""Default verification (issue 5): without verify-address the module resolves
the zone's assigned Cloudflare nameservers (the `name_servers` of the zone
details) and asks them what they serve.

How this is testable on loopback, without touching /etc: the module's
`verify-resolver` setting (used only when set; otherwise /etc/resolv.conf)
points at a stub resolver (stub_resolver.py) that maps the simulator's
nameserver names to 127.0.0.1, and `verify-port` (used only when set;
otherwise 53) sends the verification queries to a second knotd standing in
for Cloudflare's nameservers. That stand-in never learned our key, so what
the module reports (Cloudflare's signer unknown to knotd, our ZSK not served
there) can only come from asking it at the resolved address.
"""
import json

import dns.dnssec
import pytest

from knot_instance import wait_until

from sync_helpers import CF_NAMESERVERS, CHECK_INTERVAL, MARGIN, ZONE
from sync_helpers import sync_knot_factory, sync_pair, sync_pair_factory  # noqa: F401 (fixtures)
from stub_resolver import StubResolver

NEW_NAMESERVERS = ["max.ns.cloudflare.com", "noa.ns.cloudflare.com"]


@pytest.fixture
def stub_resolver():
    names = {n: "127.0.0.1" for n in CF_NAMESERVERS + NEW_NAMESERVERS}
    stub = StubResolver(names)
    yield stub
    stub.stop()


@pytest.fixture
def cf_ns(sync_knot_factory):
    """A stand-in for Cloudflare's nameservers that never learned our key."""
    ns = sync_knot_factory("cfns")
    ns.add_zone(ZONE, module=None)
    ns.start()
    wait_until(lambda: ns.rrset(ZONE, "DNSKEY"), 10, what="stand-in's DNSKEY RRset")
    return ns


def stand_in_zsk_tag(cf_ns):
    return dns.dnssec.key_id(next(r for r in cf_ns.rrset(ZONE, "DNSKEY") if r.flags == 256))


def test_assigned_nameservers_resolved_cached_and_re_resolved(sync_pair_factory, cf_ns,
                                                             stub_resolver):
    stub = stub_resolver
    pair = sync_pair_factory(module_items={
        "verify_resolver": f"127.0.0.1@{stub.port}", "verify_port": str(cf_ns.port)})
    pair.wait(pair.keys_in_step, pair.keys_timeout, "key exchange through the API")
    (ours,) = pair.our_zsks()

    # Resolved: both assigned names asked, the addresses logged with the names.
    pair.knot.wait_log(f"Cloudflare signs with ZSK {stand_in_zsk_tag(cf_ns)}",
                       CHECK_INTERVAL + MARGIN)
    assert set(stub.asked("A")) >= set(CF_NAMESERVERS), stub.questions
    log = pair.knot.read_log()
    assert "its assigned nameservers, resolved" in log
    assert (f"verifying against Cloudflare's nameservers {CF_NAMESERVERS[0]}, "
            f"{CF_NAMESERVERS[1]}: 127.0.0.1, 127.0.0.1 (resolved via verify-resolver") in log
    # ... and really asked: the stand-in does not serve our key.
    assert f"knotd signs with ZSK {ours.tag} which Cloudflare does not serve" in log
    for path, text in pair.state_files().items():
        assert not json.loads(text).get("our_zsks"), path

    # Cached: more passes, no new questions (the stub's TTL is 300 s).
    asked = len(stub.questions)
    passes = pair.stat("sync-passes")
    pair.wait(lambda: pair.stat("sync-passes") >= passes + 2, 3 * CHECK_INTERVAL + MARGIN,
              "two more passes")
    assert len(stub.questions) == asked, stub.questions[asked:]

    # New names at Cloudflare: resolved as soon as the module sees them, not
    # when the addresses' cache runs out. The module keeps the zone details
    # between passes and reads them again after an API error for the zone
    # (module/observe_cf.h): one such error makes it see the new names now.
    pair.cf.admin("PATCH", f"/zones/{pair.cf_zone_id}", {"name_servers": NEW_NAMESERVERS})
    pair.cf.add_fault("status", status=404, code=7003, message="Could not route",
                      path=r"/dnssec/zsk$", count=1)
    pair.wait(lambda: set(stub.asked("A")) >= set(NEW_NAMESERVERS), 2 * CHECK_INTERVAL + MARGIN,
              "the new nameserver names resolved")
    pair.knot.wait_log(f"verifying against Cloudflare's nameservers {NEW_NAMESERVERS[0]}",
                       CHECK_INTERVAL + MARGIN)


def test_unresolvable_nameservers_hold_keys_and_say_what_to_do(sync_pair_factory, cf_ns):
    stub = StubResolver({})   # knows no name: NXDOMAIN for each
    try:
        pair = sync_pair_factory(module_items={
            "verify_resolver": f"127.0.0.1@{stub.port}", "verify_port": str(cf_ns.port)})
        pair.wait(pair.keys_in_step, pair.keys_timeout, "key exchange through the API")
        line = pair.knot.wait_log("cannot resolve Cloudflare's nameservers",
                                  CHECK_INTERVAL + MARGIN)
        assert line
        log = pair.knot.read_log()
        warn = next(ln for ln in log.splitlines() if "cannot resolve Cloudflare's" in ln)
        assert f"[{ZONE}.]" in warn and "NXDOMAIN" in warn, warn
        assert "verify-address" in warn and "verify-served: off" in warn, warn
        # Asked nowhere: nothing confirmed, so nothing would be allowed to sign early.
        passes = pair.stat("sync-passes")
        pair.wait(lambda: pair.stat("sync-passes") >= passes + 1, 2 * CHECK_INTERVAL + MARGIN,
                  "one more pass")
        for path, text in pair.state_files().items():
            assert not json.loads(text).get("our_zsks"), path
        # Logged once, not on every pass; retried at most once a minute.
        assert log.count("cannot resolve Cloudflare's") == 1, warn
        assert len(stub.asked("A")) <= 2 * len(CF_NAMESERVERS), stub.questions
    finally:
        stub.stop()


def test_verification_off_asks_nobody(sync_pair_factory, stub_resolver):
    stub = stub_resolver
    pair = sync_pair_factory(module_items={"verify_served": "off",
                                           "verify_resolver": f"127.0.0.1@{stub.port}"})
    pair.wait(pair.keys_in_step, pair.keys_timeout, "key exchange through the API")
    assert "trusting the API's records (verify-served: off)" in pair.knot.read_log()
    # The API's word confirms our key, and no resolver was asked.
    pair.wait(lambda: any(json.loads(t).get("our_zsks") for t in pair.state_files().values()),
              CHECK_INTERVAL + MARGIN, "our ZSK confirmed from the API's records")
    assert stub.questions == []
