"""knotc reload and stop while the module waits on Cloudflare's API.

On `knotc reload` knotd loads each zone's new module instance, then unloads
the old one, which waits for the old instance's work to end. Knot 3.2 serves
the control socket from its main thread; 3.4 from worker threads under a lock
that reload takes (doc/knot-versions.md). On every series a reload or a stop
must not wait for a slow API call (every wait in a pass is abortable), knotd
must stay up, and the new instance must carry on syncing.

Each test holds one API request of the module's for SLOW seconds (the
module's own limits would give up on it after 20 s without a byte), acts
while it is held, and requires knotd's answer within knotc's 5 s timeout.
"""
import time

from sync_helpers import CHECK_INTERVAL, MARGIN
from sync_helpers import sync_knot_factory, sync_pair, sync_pair_factory  # noqa: F401 (fixtures)

SLOW = 60             # seconds the simulator holds the answer
PROMPT = 3.0          # seconds: a reload or stop that did not wait for the API
LOADED = "syncing with Cloudflare at"   # the module's line at every load


def hold_next_request(pair):
    """Make the module's next API request hang; return once it does."""
    fid = pair.cf.add_fault("delay", delay=SLOW, count=1)

    def taken():
        faults = pair.cf.admin("GET", "/faults")["faults"]
        return all(f["id"] != fid or f["remaining"] == 0 for f in faults)
    pair.wait(taken, CHECK_INTERVAL + MARGIN, "the module's next API request")


def loads(pair):
    return sum(LOADED in ln for ln in pair.module_lines())


def test_reload_while_an_api_call_hangs(sync_pair):
    pair = sync_pair
    pair.wait(pair.keys_in_step, pair.keys_timeout, "initial key exchange")
    before = loads(pair)
    hold_next_request(pair)
    seq = pair.cf_last_seq()

    t0 = time.monotonic()
    pair.knot.knotc("reload")          # fails if knotd does not answer within 5 s
    took = time.monotonic() - t0
    assert took < PROMPT, f"knotc reload took {took:.1f} s while an API call hung"
    assert pair.knot.proc.poll() is None, "knotd died on reload"

    # The new instance loaded, and its passes reach Cloudflare and succeed.
    pair.wait(lambda: loads(pair) > before, MARGIN, "the module loaded again")
    pair.wait(lambda: any(e["auth"] == "bearer" and e["status"] == 200 and not e["fault"]
                          for e in pair.cf_log(since=seq)),
              CHECK_INTERVAL + MARGIN, "an API request answered after the reload")
    pair.wait(pair.keys_in_step, pair.keys_timeout, "keys still in step after the reload")
    assert "TTL mismatch" not in pair.knot.read_log()
    pair.assert_no_duplicates()
    pair.assert_foreign_untouched()


def test_stop_while_an_api_call_hangs(sync_pair):
    pair = sync_pair
    pair.wait(pair.keys_in_step, pair.keys_timeout, "initial key exchange")
    hold_next_request(pair)

    pair.knot.knotc("stop")
    # knotd 3.2 leaves its control loop at once; 3.4 runs `stop` in a control
    # thread and its main loop notices only when its next accept() returns,
    # after up to 5 s of its own (doc/knot-versions.md), whatever the module
    # does. Leaving the loop, knotd removes the control socket: from there on
    # the module must not hold knotd up.
    pair.knot.wait_control_loop_left()
    t0 = time.monotonic()
    pair.knot.wait_exit(timeout=PROMPT + 2)
    took = time.monotonic() - t0
    assert took < PROMPT, f"knotd took {took:.1f} s to stop while an API call hung"
    assert pair.knot.proc.returncode == 0, pair.knot.read_stderr()

    # knotd frees each zone's name before it unloads the module: the module
    # must have gone quiet before that (it logged a garbage zone name).
    lines = pair.log_lines()
    stopping = next(i for i, ln in enumerate(lines) if "stopping server" in ln)
    late = [ln for ln in lines[stopping:] if "mod-multisigner" in ln]
    assert not late, "the module logged after knotd began stopping:\n" + "\n".join(late)
