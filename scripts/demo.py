"""The project's main job, shown for real on loopback.

A real knotd (Debian's 3.2.6) signs example.com with mod-multisigner loaded;
the module keeps it in RFC 8901 model 2 multi-signer step with the Cloudflare
API simulator (tests/cfsim, in this process, over HTTPS). The demo prints what
each side serves:

  1. before the module has synced,
  2. after the initial sync (ZSKs exchanged),
  3. during and after a ZSK rollover in knotd (knotc zone-key-rollover),
  4. during and after a ZSK rollover at Cloudflare (publish, activate, remove),
  5. once the apex NS sets have joined (RFC 8901 waits TTL_K for that),

with the module's log lines as they appear, and its counters at the end.
Every wait is a bounded poll; a step that does not happen in time ends the
demo with a message and exit status 1. knotd, the simulator and the temporary
directory are cleaned up in every case (also on Ctrl-C).

    /usr/bin/python3 scripts/demo.py      # MS_MODULE_SO=/path/multisigner.so to override
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))                  # the cfsim package
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))   # harness and helpers

import dns.exception  # noqa: E402

from cfsim import Simulator  # noqa: E402
from fixtures_cfsim import CfsimHandle  # noqa: E402
from knot_instance import KEYMGR, KNOTD, KnotInstance, wait_until  # noqa: E402
from sync_helpers import (CF_DNSKEY_TTL, CF_NAMESERVERS, CHECK_INTERVAL,  # noqa: E402
                          FAST_POLICY, LOCAL_NAMESERVERS, MARGIN, ZONE, Key, Pair,
                          configure_module, fast_zone_text, rollover_bounds)

HOLD_TIME = 20            # s: how long knotd keeps a key Cloudflare stopped serving
BEFORE_SYNC_HOLD = 2.0    # s: the simulator delays the module's first API call this long
PUBLISH_LIMIT = 5.0       # s: `knotc zone-key-rollover` -> new key in knotd's DNSKEY RRset


class DemoFailure(Exception):
    pass


# ---- output ----------------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.t0 = time.monotonic()

    def __call__(self):
        return time.monotonic() - self.t0

    def stamp(self):
        return f"+{self():5.1f}s"


class ModuleLog:
    """Follows knotd's log file and prints new mod-multisigner lines, without the
    timestamp and the "[zone] module 'mod-multisigner/<id>', zone <zone>:" prefix."""

    def __init__(self, knot, clock):
        self.knot = knot
        self.clock = clock
        self.done = 0          # complete lines already looked at

    @staticmethod
    def strip(line):
        # 2026-01-01T00:00:00+0000 info: [example.com.] module 'mod-multisigner/cf', zone example.com: text
        _, _, rest = line.partition(" ")
        level, _, rest = rest.partition(": ")
        if "module 'mod-multisigner/" in rest:
            rest = rest.split("', ", 1)[-1]
        if rest.startswith(f"zone {ZONE}: "):
            rest = rest[len(f"zone {ZONE}: "):]
        return f"{level}: {rest}"

    def pump(self):
        lines = self.knot.read_log().split("\n")[:-1]   # the last piece may be partial
        for line in lines[self.done:]:
            if "mod-multisigner" in line:
                print(f"  | {self.clock.stamp()}  {self.strip(line)}")
        self.done = max(self.done, len(lines))


def on_off(value):
    return "on" if value else "off"


def only(items, what):
    items = list(items)
    if len(items) != 1:
        raise DemoFailure(f"expected exactly one {what}, found {len(items)}")
    return items[0]


def key_state(entry, now):
    """Where a key of knotd's own is in its lifecycle (keymgr's timestamps)."""
    state = "created"
    for label, field in (("published", "publish"), ("ready", "ready"), ("active", "active"),
                         ("retiring", "retire-active"), ("retired", "retire"),
                         ("removed", "remove")):
        ts = entry.get(field) or 0
        if 0 < ts <= now:
            state = label
    return state


class Demo:
    def __init__(self, pair, clock):
        self.pair = pair
        self.clock = clock
        self.log = ModuleLog(pair.knot, clock)

    # -- waiting: bounded polls that keep printing the module's log --
    def wait_for(self, predicate, timeout, what, interval=0.05):
        def probe():
            self.log.pump()
            if self.pair.knot.proc.poll() is not None:
                raise DemoFailure(f"knotd exited (status {self.pair.knot.proc.returncode}) "
                                  f"while waiting for {what}")
            try:
                return predicate()
            except (OSError, dns.exception.DNSException):
                return None
        try:
            return wait_until(probe, timeout, interval, what)
        except TimeoutError:
            raise DemoFailure(f"{what} did not happen within {timeout:.0f} s") from None

    def event(self, text):
        self.log.pump()
        print(f"  > {self.clock.stamp()}  {text}")

    def next_pass(self, what):
        """Wait until the module has finished one more sync pass."""
        before = self.pair.stat("sync-passes")
        self.wait_for(lambda: self.pair.stat("sync-passes") > before,
                      CHECK_INTERVAL + MARGIN, f"the module's next sync pass ({what})", 0.2)

    # -- the two sides, as an observer sees them --
    def snapshot(self, title):
        self.log.pump()
        p = self.pair
        # Cloudflare first, then knotd, each time in the same order.
        cf_zone = p.cf_zone()
        cf_keys = p.cf.keys(ZONE)
        cf_recs = p.cf_records()
        served = p.cf_served()
        dnskeys, dnskey_sig = p.knot.rrset_and_sig(ZONE, "DNSKEY")
        soa_signers = p.soa_sig_tags()
        local_ns = p.local_ns()
        keydb = p.keymgr_keys()
        now = time.time()

        cf_zsk_tag = {Key.from_sim_key(z): z["tag"] for z in cf_keys["zsks"]}
        cf_ours = {Key.from_cf_record(r) for r in cf_recs
                   if r["type"] == "DNSKEY" and p.is_ours(r)}
        assigned = [n.lower() for n in cf_zone.get("name_servers") or []]
        print(f"\n=== {title} " + "=" * max(3, 66 - len(title)) + f" {self.clock.stamp()}")

        # knotd
        ttl = dnskeys.ttl if dnskeys is not None else "-"
        signers = ", ".join(str(rd.key_tag) for rd in dnskey_sig or [])
        print(f"knotd: DNSKEY RRset (TTL {ttl}, RRSIG by {signers or '-'})")
        keys = [Key.from_rdata(rd) for rd in dnskeys or []]
        keys.sort(key=lambda k: (-k.flags, k not in cf_zsk_tag, k.tag))
        for k in keys:
            role = {257: "KSK", 256: "ZSK"}.get(k.flags, f"flags {k.flags}")
            own = [e for e in keydb if e["tag"] == k.tag and not e.get("public-only")]
            if k in cf_zsk_tag:
                tag = cf_zsk_tag[k]
                who = "Cloudflare's, imported; at Cloudflare: " + (
                    "removed, knotd still holds it" if tag == "removed" else tag)
            elif own:
                who = "ours"
                if k.flags == 256:
                    who += f", {key_state(own[0], now)}, " + (
                        "at Cloudflare" if k in cf_ours else "not at Cloudflare")
            else:
                who = "unknown owner"
            sign = "   <- signs (RRSIG over SOA)" if k.tag in soa_signers else ""
            print(f"  {k.tag:>5}  {role}  {who}{sign}")
        print("  apex NS: " + (", ".join(
            n + (" (Cloudflare's)" if n in assigned else "") for n in sorted(local_ns))
            or "(none)"))

        # Cloudflare
        dnssec, settings = cf_zone["dnssec"], cf_zone["dns_settings"]
        print(f"Cloudflare: DNSSEC {dnssec['status']}, multi-signer "
              f"{on_off(dnssec['dnssec_multi_signer'])}, multi_provider "
              f"{on_off(settings['multi_provider'])}")
        zsks = ", ".join(f"{z['key_tag']} {z['tag']}" for z in cf_keys["zsks"])
        print(f"  its keys: KSK {cf_keys['ksk']['key_tag']}; ZSKs (Tag): {zsks}")
        dnskey_recs = [r for r in cf_recs if r["type"] == "DNSKEY"]
        print("  DNSKEY records:" + ("" if dnskey_recs else " (none)"))
        for r in dnskey_recs:
            mark = "ours" if p.is_ours(r) else "not ours"
            print(f"    {Key.from_cf_record(r).tag:>5}  ttl {r['ttl']}  {mark}: "
                  f"comment {r.get('comment')!r}")
        ns_recs = [r for r in cf_recs if r["type"] == "NS" and r["name"] == ZONE]
        print("  apex NS records: " + (", ".join(
            r["content"] + (" (ours)" if p.is_ours(r) else "") for r in ns_recs) or "(none)")
            + "; assigned: " + ", ".join(assigned))
        served_keys = [Key.from_text(line.split("DNSKEY", 1)[1]) for line in served["dnskey"]]
        own_tags = " ".join(str(k.tag) for k in served_keys if k not in cf_ours)
        our_tags = " ".join(str(k.tag) for k in served_keys if k in cf_ours)
        print(f"  serves DNSKEY: {own_tags or '(none)'}"
              + (f" + ours {our_tags}" if our_tags else "")
              + "; NS: " + (", ".join(served["ns"]) or "(none)"))
        print()
        self.log.pump()


# ---- the story ---------------------------------------------------------------------------
def before_sync(demo):
    p = demo.pair
    demo.snapshot("1. knotd started, before the module's first sync")
    if p.cf_writes() or (p.local_zsks() & p.cf_all_zsks()):
        print("  (the module had already started changing things when this was read)")


def initial_sync(demo):
    p = demo.pair
    demo.wait_for(p.keys_in_step, p.keys_timeout,
                  "the initial key exchange (our ZSK at Cloudflare, Cloudflare's in knotd)")
    demo.event("initial key exchange done: each side serves the other's ZSK")
    demo.snapshot("2. after the initial sync")
    print(f"  (apex NS: the module adds them only once both key sets have been in place for "
          f"TTL_K = {p.ttl_k} s, the largest DNSKEY TTL of both sides; see step 5)\n")


def local_rollover(demo):
    p = demo.pair
    bounds = rollover_bounds(p)
    old = only(p.our_zsks(), "ZSK of knotd's own before the rollover")
    old_ids = {r["id"] for r in p.cf_our_dnskey_records() if Key.from_cf_record(r) == old}
    cf_known = p.cf_all_zsks()

    print(f"--- 3. ZSK rollover in knotd: knotc zone-key-rollover {ZONE} zsk (old ZSK {old.tag})")
    t_cmd = time.monotonic()
    p.knot.knotc("zone-key-rollover", ZONE, "zsk")

    def new_local():
        new = p.local_zsks() - {old} - cf_known
        return next(iter(new), None)

    new = demo.wait_for(new_local, PUBLISH_LIMIT, "knotd publishing a new ZSK", 0.02)
    t_local = time.monotonic()
    demo.event(f"knotd publishes new ZSK {new.tag} ({t_local - t_cmd:.2f} s after the command)")
    demo.wait_for(lambda: new in p.cf_our_keys(), bounds["prepublish"],
                  f"new ZSK {new.tag} reaching Cloudflare", 0.02)
    t_cf = time.monotonic()
    demo.event(f"new ZSK {new.tag} is at Cloudflare {t_cf - t_local:.2f} s after knotd "
               f"published it (measured by polling both sides every 20 ms)")
    demo.snapshot(f"3a. new ZSK {new.tag} published on both sides, {old.tag} still signs")

    demo.wait_for(lambda: new.tag in p.soa_sig_tags(), bounds["activation"],
                  f"new ZSK {new.tag} signing in knotd", 0.05)
    t_sign = time.monotonic()
    if new not in p.cf_our_keys():
        raise DemoFailure(f"knotd signs with ZSK {new.tag} but Cloudflare does not have it")
    demo.event(f"new ZSK {new.tag} signs, {t_sign - t_local:.1f} s after publication "
               f"({t_sign - t_cf:.1f} s after it reached Cloudflare)")
    demo.snapshot(f"3b. new ZSK {new.tag} signs, old ZSK {old.tag} still published")

    demo.wait_for(lambda: old not in p.local_zsks(), bounds["removal"],
                  f"old ZSK {old.tag} leaving knotd's DNSKEY RRset", 0.05)
    t_gone = time.monotonic()
    demo.event(f"old ZSK {old.tag} left knotd, {t_gone - t_sign:.1f} s after the new one "
               "started signing")
    demo.wait_for(lambda: not old_ids & {r["id"] for r in p.cf_dnskey_records()},
                  bounds["cf_delete"], f"our record of old ZSK {old.tag} deleted at Cloudflare",
                  0.05)
    demo.event(f"our record of old ZSK {old.tag} deleted at Cloudflare "
               f"{time.monotonic() - t_gone:.2f} s later; whole rollover "
               f"{time.monotonic() - t_cmd:.1f} s")
    demo.snapshot("3c. after the rollover in knotd")


def cloudflare_rollover(demo):
    p = demo.pair
    k1 = only(p.cf_served_zsks(), "ZSK served by Cloudflare before its rollover")
    print(f"--- 4. ZSK rollover at Cloudflare (simulator admin API: publish, activate, "
          f"remove; old ZSK {k1.tag})")

    keys = p.cf.zsk_rollover(ZONE, "publish")
    k2 = Key.from_sim_key(next(z for z in keys["zsks"] if z["tag"] == "publish"))
    t_pub = time.monotonic()
    demo.event(f"Cloudflare pre-publishes ZSK {k2.tag}")
    demo.wait_for(lambda: k2 in p.local_zsks(), CHECK_INTERVAL + MARGIN,
                  f"Cloudflare's new ZSK {k2.tag} imported into knotd", 0.1)
    t_imported = time.monotonic()
    demo.event(f"ZSK {k2.tag} imported into knotd {t_imported - t_pub:.1f} s after Cloudflare "
               f"published it (the module checks Cloudflare every {CHECK_INTERVAL} s)")
    demo.snapshot(f"4a. Cloudflare's new ZSK {k2.tag} published, imported into knotd")

    p.cf.zsk_rollover(ZONE, "activate")
    demo.event(f"Cloudflare activates ZSK {k2.tag}; {k1.tag} is retired (still served)")
    demo.next_pass("after Cloudflare's activation")
    if not {k1, k2} <= p.local_zsks():
        raise DemoFailure(f"knotd dropped a ZSK Cloudflare still serves ({k1.tag} or {k2.tag})")
    demo.snapshot(f"4b. Cloudflare's ZSK {k2.tag} active, {k1.tag} retired: knotd keeps both")

    p.cf.zsk_rollover(ZONE, "remove")
    t_rm = time.monotonic()
    demo.event(f"Cloudflare removes ZSK {k1.tag}")
    demo.next_pass("after Cloudflare's removal")
    if k1 in p.local_zsks():
        demo.snapshot(f"4c. {k1.tag} gone from Cloudflare, held in knotd for hold-time "
                      f"{HOLD_TIME} s")
    demo.wait_for(lambda: k1 not in p.local_zsks(), HOLD_TIME + 2 * CHECK_INTERVAL + MARGIN,
                  f"Cloudflare's removed ZSK {k1.tag} leaving knotd after the hold time", 0.1)
    held = time.monotonic() - t_rm
    demo.event(f"ZSK {k1.tag} left knotd {held:.1f} s after Cloudflare removed it "
               f"(hold-time {HOLD_TIME} s from the module's first check that missed it)")
    if held < HOLD_TIME - 1:
        raise DemoFailure(f"ZSK {k1.tag} left knotd after {held:.1f} s, before the hold time")
    demo.snapshot("4d. after the rollover at Cloudflare")
    return t_imported


def ns_join(demo, last_key_change):
    p = demo.pair
    if not p.ns_in_step():
        print(f"--- 5. waiting for the apex NS sets to join (TTL_K = {p.ttl_k} s after the "
              f"last new key was in place on both sides)")
    deadline = last_key_change + p.ttl_k + 2 * CHECK_INTERVAL + MARGIN
    demo.wait_for(p.ns_in_step, max(1.0, deadline - time.monotonic()),
                  "the apex NS sets joining on both sides", 0.2)
    demo.event("apex NS in step: our nameservers at Cloudflare, Cloudflare's in knotd")
    demo.snapshot("5. final state")
    signers = p.validate_apex("SOA")
    print(f"checks: keys in step: {'yes' if p.keys_in_step() else 'NO'}; NS in step: "
          f"{'yes' if p.ns_in_step() else 'NO'}; knotd's SOA RRSIG (by "
          f"{', '.join(map(str, sorted(signers)))}) validates against its DNSKEY RRset")


def counters(demo):
    out = demo.pair.knot.knotc("-f", "zone-stats", ZONE).stdout
    print("\nmodule counters (knotc -f zone-stats):")
    for line in out.splitlines():
        if "mod-multisigner" in line:
            print("  " + line.strip())


def status(demo):
    """What an operator sees in one command: the status of every zone."""
    cli = os.path.join(ROOT, "tools", "knot-multisigner-status")
    conf = demo.pair.knot.conf_path
    print(f"\n$ knot-multisigner-status -c {conf}")
    r = subprocess.run(["/usr/bin/python3", cli, "-c", conf], capture_output=True, text=True,
                       timeout=60)
    print(r.stdout + r.stderr, end="")


# ---- set-up and clean-up ---------------------------------------------------------------
def raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def run(module_so, clock):
    with tempfile.TemporaryDirectory(prefix="ms-demo-") as tmp:
        with Simulator(tls=True, options={"dnskey_ttl": CF_DNSKEY_TTL}) as sim:
            cf = CfsimHandle.for_simulator(sim)
            cf.create_zone(ZONE, name_servers=CF_NAMESERVERS)
            knot = KnotInstance(tmp, module_so)
            knot.policy = dict(FAST_POLICY)
            configure_module(knot, cf, nameserver=LOCAL_NAMESERVERS, tls=True,
                             hold_time=str(HOLD_TIME))
            knot.add_zone(ZONE, text=fast_zone_text())
            pair = Pair(knot, cf)
            demo = Demo(pair, clock)
            version = subprocess.run([KNOTD, "--version"], capture_output=True,
                                     text=True).stdout.strip()
            print(f"{version} with {module_so}")
            print(f"zone {ZONE}; Cloudflare API simulator (tests/cfsim, in this process) at "
                  f"{cf.base_url}")
            pol = knot.policy
            print(f"policy: dnskey-ttl {pol['dnskey-ttl']}, propagation-delay "
                  f"{pol['propagation-delay']}, zone-max-ttl {pol['zone-max-ttl']}; module: "
                  f"check-interval {CHECK_INTERVAL}, hold-time {HOLD_TIME}; Cloudflare's DNSKEY "
                  f"TTL {CF_DNSKEY_TTL}")
            print(f"(the simulator holds the module's first API call {BEFORE_SYNC_HOLD:.0f} s, "
                  "so that step 1 is read before the module changes anything)")
            print("legend: ours = knotd's own key or record (at Cloudflare: marked by its "
                  "comment); Cloudflare's ZSK tags: publish, active, retired, removed; "
                  "DNSSEC 'pending' = on, until Cloudflare sees its DS at the parent\n")
            cf.add_fault("delay", delay=BEFORE_SYNC_HOLD, count=1)
            try:
                pair.start()
                print(f"knotd pid {knot.proc.pid} serves {ZONE} on 127.0.0.1@{knot.port}, "
                      f"files in {knot.dir}")
                demo.wait_for(lambda: "syncing with Cloudflare at" in knot.read_log(), 10,
                              "the module's start line in knotd's log")
                before_sync(demo)
                initial_sync(demo)
                local_rollover(demo)
                last_key_change = cloudflare_rollover(demo)
                ns_join(demo, last_key_change)
                counters(demo)
                status(demo)
            except Exception:
                try:
                    print("\nstate of both sides when it stopped:\n" + pair.describe(),
                          file=sys.stderr)
                except Exception:
                    pass
                raise
            finally:
                knot.stop()


def main():
    clock = Clock()
    sys.stdout.reconfigure(line_buffering=True)
    # Ctrl-C and SIGTERM both end the demo through its clean-up, even when the
    # demo was started with SIGINT ignored (as background jobs of a shell are).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, raise_interrupt)
    module_so = os.path.abspath(os.environ.get("MS_MODULE_SO")
                                or os.path.join(ROOT, "multisigner.so"))
    for path, hint in ((module_so, "build it with `make` (or set MS_MODULE_SO)"),
                       (KNOTD, "install Debian's knot package (scripts/install-deps.sh)"),
                       (KEYMGR, "install Debian's knot package (scripts/install-deps.sh)")):
        if not os.path.exists(path):
            print(f"demo: {path} not found: {hint}", file=sys.stderr)
            return 2
    try:
        run(module_so, clock)
    except KeyboardInterrupt:
        print(f"\ndemo interrupted after {clock():.1f} s; knotd and the simulator are stopped "
              "and the temporary directory removed", file=sys.stderr)
        return 130
    except (DemoFailure, RuntimeError, AssertionError) as e:
        print(f"\ndemo FAILED after {clock():.1f} s: {e}", file=sys.stderr)
        return 1
    print(f"\ndemo finished in {clock():.1f} s; knotd and the simulator are stopped and the "
          "temporary directory removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
