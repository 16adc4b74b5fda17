"""knotd's lifecycle with mod-multisigner while every API request hangs.

Each operation is timed on two knotd instances side by side: one with the
module (its API requests held by the simulator for up to two minutes) and one
with the same zones and policy but no module (the baseline). With the module
an operation may take at most LIFECYCLE_SLACK more. After the module leaves
(the zone or the module removed, knotd stopped) none of its threads and none
of the programs it runs (keymgr, knotc) are left.

And during a reload, when knotd runs the old and the new module instance side
by side for a moment, at most one of them acts on the zone: each instance is
given its own API token, so the simulator's log tells them apart.
"""
import os
import time

import pytest

from knot_instance import wait_until
from sync_helpers import (CF_DNSKEY_TTL, CF_NAMESERVERS, CHECK_INTERVAL, MARGIN, TOKEN_FILE,
                          ZONE, configure_module)
from sync_helpers import sync_knot_factory  # noqa: F401 (fixture)

LIFECYCLE_SLACK = 1.0     # s: what the module may add to any operation
HANG = 120.0              # s: the simulator holds every API request this long


# ---- processes and threads -----------------------------------------------------------------
def thread_count(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def processes_of(knot):
    """Processes other than knotd itself whose command line names this
    instance's directory (the keymgr and knotc the module runs do), and
    knotd's children of any kind."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == knot.proc.pid:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue          # gone meanwhile
        if ppid == knot.proc.pid or (knot.dir in cmd and "pytest" not in cmd):
            found.append(f"{entry}: {cmd.strip()}")
    return found


class Twins:
    """The knotd with the module and its baseline twin, one simulator."""

    def __init__(self, make_knot, cf):
        self.cf = cf
        self.zone_id = cf.create_zone(ZONE, name_servers=CF_NAMESERVERS)["id"]
        self.mod = make_knot("with-module")
        self.base = make_knot("baseline")
        for knot in (self.mod, self.base):
            configure_module(knot, cf)
            knot.add_zone(ZONE, module="cf", extra_conf=knot.zone_acl_conf())
        self.base.with_module = False
        self.held = set()

    def start(self):
        for knot in (self.mod, self.base):
            knot.start()
            wait_until(lambda: knot.rrset(ZONE, "DNSKEY"), 15, what="signed zone served")
        self.base_threads = thread_count(self.base.proc.pid)

    def wait_hanging(self):
        """The module has a new request held at the simulator (its worker is
        inside a pass). Requests an earlier instance gave up on stay held
        there too, so only a new one counts."""
        def new_held():
            now = {(r["time"], r["path"]) for r in self.cf.in_flight()}
            return now - self.held
        fresh = wait_until(new_held, CHECK_INTERVAL + MARGIN,
                           what="a new API request held by the simulator")
        self.held |= fresh

    def timed(self, label, apply, *args, before=None):
        """apply(knot, *args) on both, each after before(knot) if given
        (not timed); returns (with module, baseline) seconds."""
        times = {}
        for name, knot in (("base", self.base), ("mod", self.mod)):
            if before is not None:
                before(knot)
            t0 = time.monotonic()
            apply(knot, *args)
            times[name] = time.monotonic() - t0
        print(f"[{label}] with the module {times['mod']:.3f} s, "
              f"without {times['base']:.3f} s")
        assert times["mod"] - times["base"] <= LIFECYCLE_SLACK, \
            f"{label}: {times['mod']:.2f} s with the module, {times['base']:.2f} s without"
        return times

    def assert_module_gone(self, label):
        assert thread_count(self.mod.proc.pid) == self.base_threads, \
            f"{label}: knotd has {thread_count(self.mod.proc.pid)} threads, " \
            f"the baseline {self.base_threads}: a module thread is left"
        left = processes_of(self.mod)
        assert not left, f"{label}: left running: {left}"

    def answers(self):
        for knot in (self.mod, self.base):
            assert knot.query(ZONE, "SOA").answer, "knotd stopped answering"


def reload(knot):
    knot.write_conf()
    knot.knotc("reload", timeout=60)


def zone_reload(knot):
    knot.knotc("-b", "zone-reload", ZONE, timeout=60)


def stop_control_loop(knot):
    """`knotc stop`, then until knotd leaves its control loop: 3.4 may take
    5 s of its own for that, module or not (doc/knot-versions.md)."""
    knot.knotc("stop", timeout=60)
    knot.wait_control_loop_left()


def exit_after_stop(knot):
    knot.wait_exit(timeout=60)


@pytest.fixture
def twins(sync_knot_factory, cfsim_factory):
    cf = cfsim_factory(options={"dnskey_ttl": CF_DNSKEY_TTL})
    return Twins(sync_knot_factory, cf)


def test_operations_while_every_request_hangs(twins):
    t = twins
    t.cf.add_fault("delay", delay=HANG)
    t.start()
    mod_threads = thread_count(t.mod.proc.pid)
    assert mod_threads == t.base_threads + 1, \
        f"expected one worker thread: {mod_threads} vs {t.base_threads}"
    t.wait_hanging()

    t.timed("knotc reload", reload)
    t.wait_hanging()
    t.timed("knotc zone-reload", zone_reload)
    t.answers()

    # The module leaves the zone's configuration; the zone stays. (zone-reload
    # kept the instance, whose request is still held.)
    t.mod.zones[ZONE]["module"] = t.base.zones[ZONE]["module"] = None
    t.timed("module removed + reload", reload)
    t.assert_module_gone("module removed")
    t.answers()

    # The module back, then the zone leaves.
    t.mod.zones[ZONE]["module"] = t.base.zones[ZONE]["module"] = "cf"
    reload(t.mod)
    reload(t.base)
    t.wait_hanging()
    assert thread_count(t.mod.proc.pid) == t.base_threads + 1
    zone = t.mod.zones.pop(ZONE)
    t.base.zones.pop(ZONE)
    t.timed("zone removed + reload", reload)
    t.assert_module_gone("zone removed")

    # The zone back, then knotd stops.
    t.mod.zones[ZONE] = dict(zone)
    t.base.zones[ZONE] = dict(zone, module=None)
    reload(t.mod)
    reload(t.base)
    t.wait_hanging()
    t.timed("knotd's exit after knotc stop", exit_after_stop, before=stop_control_loop)
    assert t.mod.proc.returncode == 0, f"knotd exited with {t.mod.proc.returncode}"
    left = processes_of(t.mod)
    assert not left, f"left running after knotd stopped: {left}"
    assert "mod-multisigner" not in t.mod.read_stderr()


RELOADS = 6


def test_two_instances_never_both_act(twins):
    """Reloads while the module works (each API request answered after
    0.3 s, so a reload often falls inside a pass): once a new instance has
    sent its first request, the old one sends none."""
    t = twins
    t.cf.add_fault("delay", delay=0.3)
    tokens = [f"lifecycle-token-{i}" for i in range(RELOADS + 1)]
    for tok in tokens:
        t.cf.add_token(tok)
    t.mod.write_secret(TOKEN_FILE, tokens[0] + "\n")
    t.start()
    by_value = {d["token"]: d["id"] for d in t.cf.admin("GET", "/tokens")["tokens"]}
    ids = [by_value[tok] for tok in tokens]

    def sent_by(token_id):
        return [e for e in t.cf.log() if e.get("token_id") == token_id]

    for i in range(1, RELOADS + 1):
        wait_until(lambda: sent_by(ids[i - 1]), CHECK_INTERVAL + MARGIN,
                   what=f"instance {i - 1} at work")
        t.mod.write_secret(TOKEN_FILE, tokens[i] + "\n")
        reload(t.mod)
        t.answers()
    wait_until(lambda: sent_by(ids[RELOADS]), CHECK_INTERVAL + MARGIN,
               what="the last instance at work")
    # Let every held request be answered and logged.
    wait_until(lambda: not t.cf.in_flight(), 5, what="no request in flight")

    log = t.cf.log()
    unknown = [e for e in log if e.get("token_id") not in ids]
    assert not unknown, f"requests without a known token: {unknown[:3]}"
    first = {}
    for e in log:
        first.setdefault(e["token_id"], e["time"])
    for i in range(1, RELOADS + 1):
        if ids[i] not in first:
            continue
        late = [e for e in log if e["token_id"] in ids[:i] and e["time"] > first[ids[i]]]
        assert not late, \
            f"an older instance started requests after instance {i} had begun: " \
            f"{[(ids.index(e['token_id']), e['time'], e['method'], e['path']) for e in late]}"
    counts = [len(sent_by(x)) for x in ids]
    print(f"requests per instance over {RELOADS} reloads: {counts}")
