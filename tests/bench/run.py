#!/usr/bin/python3
"""Benchmarks of issue 6, against the Cloudflare API simulator, on loopback.

    /usr/bin/python3 tests/bench/run.py [sync|rollover|qps|all]   (make bench)
    /usr/bin/python3 tests/bench/run.py prepare       (fill BENCH_CACHE)
    /usr/bin/python3 tests/bench/run.py doc RESULTS   (sections from a kept results.json)

sync      N zones in one knotd with the module: time until all are in sync at
          the request budget, requests per zone per check interval at steady
          state (reads and writes), 429 answers, knotd's memory and start
          time with the module versus without it.
rollover  R of those zones roll their ZSK at once: time from local
          publication to the key's record at Cloudflare (p50, p99, max).
qps       knotd's query throughput with the module versus without it
          (dnsperf, alternating runs).

Each prints its figures and writes them, with the machine, into the
generated sections of doc/benchmarks.md (BENCH_DOC to write elsewhere, or
BENCH_DOC= to write nothing). Settings (environment):

    BENCH_ZONES=10000        zones of the sync benchmark
    BENCH_ROLL_ZONES=1000    zones that roll their ZSK (at most BENCH_ZONES)
    BENCH_QPS_ZONES=100      zones of the throughput benchmark
    BENCH_LIMIT=15000        the request budget: requests ...
    BENCH_WINDOW=300         ... per this many seconds (simulator and module)
    BENCH_INTERVAL=600       the module's check-interval (seconds)
    BENCH_SYNC_TIMEOUT=3600  give up waiting for all zones in sync after this
    BENCH_WARMUP=interval/2  wait this long once all are in sync, then count
    BENCH_ROLL_TIMEOUT=1800  give up waiting for the rolled keys after this
    BENCH_QPS_ROUNDS=3       alternating rounds of the throughput benchmark
    BENCH_QPS_SECONDS=10     seconds per dnsperf run
    BENCH_BUDGET_ITEM=...    the module's budget option (default: api-budget, used
                             when this build knows it; requests per 5 minutes)
    BENCH_WORKDIR=...        where knotd and the simulator keep their files
    BENCH_CACHE=...          keep the prepared (keyed and signed) zones here, for
                             later runs with as many zones (`run.py prepare`
                             only fills it)
    MS_MODULE_SO=...         the module (default: ./multisigner.so)
"""
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common as c  # noqa: E402
import docgen  # noqa: E402


def env_int(name, default):
    return int(os.environ.get(name, default))


class Settings:
    def __init__(self):
        self.zones = env_int("BENCH_ZONES", 10000)
        self.roll_zones = min(env_int("BENCH_ROLL_ZONES", 1000), self.zones)
        self.qps_zones = env_int("BENCH_QPS_ZONES", 100)
        self.limit = env_int("BENCH_LIMIT", 15000)
        self.window = env_int("BENCH_WINDOW", 300)
        self.interval = env_int("BENCH_INTERVAL", 600)
        self.sync_timeout = env_int("BENCH_SYNC_TIMEOUT", 3600)
        self.warmup = env_int("BENCH_WARMUP", self.interval // 2)
        self.roll_timeout = env_int("BENCH_ROLL_TIMEOUT", 1800)
        self.qps_rounds = env_int("BENCH_QPS_ROUNDS", 3)
        self.qps_seconds = env_int("BENCH_QPS_SECONDS", 10)
        self.budget_item = os.environ.get("BENCH_BUDGET_ITEM")
        self.module_so = os.path.abspath(os.environ.get("MS_MODULE_SO")
                                         or os.path.join(c.SRCDIR, "multisigner.so"))
        self.workdir = os.environ.get("BENCH_WORKDIR") or tempfile.mkdtemp(prefix="ms-bench-")
        self.cache = os.environ.get("BENCH_CACHE")
        self.doc = os.environ.get("BENCH_DOC", os.path.join(c.SRCDIR, "doc", "benchmarks.md"))

    def budget_text(self):
        return f"{self.limit} requests per {self.window} s " \
               f"({self.limit / self.window:.1f}/s)"


# ---- the module's request budget option -----------------------------------------------
def budget_value(s):
    """The module's api-budget counts requests per 5 minutes."""
    return str(max(1, round(s.limit * 300 / s.window)))


def probe_items(run, s, cf):
    """The module items of this build the benchmarks set, by `knotc conf-check`
    on a one-zone configuration: the request budget (BENCH_BUDGET_ITEM,
    default api-budget, when the build knows it) and verify-served off (the
    benchmarks stay on loopback: no asking Cloudflare's real nameservers)."""
    wanted = {s.budget_item or "api-budget": budget_value(s), "verify-served": "off"}
    k = c.BenchKnot(run.workdir, s.module_so, "probe")
    k.add_zones(["probe.bench.test"])
    known = {}
    for item, value in wanted.items():
        c.configure_module(k, cf, s.interval, {**known, item: value})
        if k.conf_check().returncode == 0:
            known[item] = value
    return known


# ---- benchmark 1: N zones in sync ------------------------------------------------------------
class Setup:
    """Simulator, zones, a prepared key database, and knotd with the module."""

    def __init__(self, run, s, n):
        self.run, self.s = run, s
        self.names = c.zone_names(n)
        self.cf = run.simulator(s.limit, s.window)
        self.items = probe_items(run, s, self.cf)
        item = s.budget_item or "api-budget"
        self.budget_item = item if item in self.items else None
        c.log(f"module items set: {self.items or 'none'}")
        c.create_cf_zones(self.cf, self.names)
        self.knot = None

    def instance(self, name, with_module):
        k = self.run.knot(name)
        k.policy = c.bench_policy(self.s.interval)
        k.with_module = with_module
        k.add_zones(self.names)
        c.configure_module(k, self.cf, self.s.interval, self.items)
        return k

    def prepare(self):
        """knotd without the module creates every zone's keys and signs it once;
        the measured instances start from copies of that directory. With
        BENCH_CACHE, the directory is kept there and used again by later runs
        with the same number of zones (keys do not depend on the module)."""
        cache = os.path.join(self.s.cache, f"prepared-{len(self.names)}") \
            if self.s.cache else None
        if cache and os.path.exists(os.path.join(cache, "prepared.json")):
            with open(os.path.join(cache, "prepared.json")) as f:
                t = json.load(f)["seconds"]
            c.log(f"using the {len(self.names)} zones prepared in {cache} ({t:.1f} s then)")
            self.prepared = cache
            return t
        k = self.instance("prepare", with_module=False)
        t = c.start_knot(k, self.names, timeout=3600)
        c.log(f"prepared {len(self.names)} signed zones in {t:.1f} s")
        self.run.stop(k)
        self.prepared = k.dir
        if cache:
            shutil.rmtree(cache, ignore_errors=True)
            shutil.copytree(k.dir, cache, symlinks=True)
            with open(os.path.join(cache, "prepared.json"), "w") as f:
                json.dump({"seconds": t, "zones": len(self.names)}, f)
        return t


def settle(knot, seconds=5.0, limit=120.0):
    """Wait until knotd has used less than 2 % of a CPU over `seconds` (bounded)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = knot.cpu_seconds()
        time.sleep(seconds)
        if knot.cpu_seconds() - before < 0.02 * seconds:
            return True
    return False


def wait_in_sync(setup, started, timeout):
    """Poll until every zone is in sync; return {zone: seconds since start}."""
    synced = {}
    d = c.Dns(setup.knot.port)
    deadline = time.monotonic() + timeout
    last_report = 0.0
    try:
        while len(synced) < len(setup.names) and time.monotonic() < deadline:
            for served in c.served_pages(setup.cf):
                if served["name"] not in synced and c.zone_in_sync(served, d):
                    synced[served["name"]] = time.monotonic() - started
            if setup.knot.proc.poll() is not None:
                raise RuntimeError("knotd exited during the sync benchmark")
            if time.monotonic() - last_report > 30:
                last_report = time.monotonic()
                tot = setup.cf.counters()["total"]
                c.log(f"  {len(synced)}/{len(setup.names)} zones in sync after "
                      f"{time.monotonic() - started:.0f} s; {tot['requests']} API requests, "
                      f"{tot['rate_limited']} answered 429")
            if len(synced) < len(setup.names):
                time.sleep(2.0)
    finally:
        d.close()
    return synced


def all_still_in_sync(setup):
    d = c.Dns(setup.knot.port)
    try:
        return sum(1 for served in c.served_pages(setup.cf) if c.zone_in_sync(served, d))
    finally:
        d.close()


def counter_diff(after, before):
    out = {}
    for name, cur in after["zones"].items():
        prev = before["zones"].get(name, {})
        out[name] = {k: v - prev.get(k, 0) for k, v in cur.items()}
    return out


def module_log_summary(knot):
    """Warnings and notices of the module, zone names folded, most frequent first."""
    counts = {}
    for line in knot.read_log().splitlines():
        if "mod-multisigner" not in line or not re.search(r"\b(warning|notice):", line):
            continue
        text = re.sub(r"z\d{5}\.bench\.test", "<zone>", line.split(": ", 1)[-1])
        text = re.sub(r"\b\d+(\.\d+)?\b", "N", text)
        counts[text] = counts.get(text, 0) + 1
    return sorted(counts.items(), key=lambda kv: -kv[1])[:5]


def bench_sync(run, s):
    r = {"zones": s.zones, "budget": s.budget_text(), "interval": s.interval,
         "warmup": s.warmup}
    setup = Setup(run, s, s.zones)
    r["budget_item"] = setup.budget_item
    r["prepare_s"] = setup.prepare()

    # Without the module: start time and memory once loaded and idle.
    plain = setup.instance("plain", with_module=False)
    plain.adopt(setup.prepared)
    r["start_plain_s"] = c.start_knot(plain, setup.names, timeout=3600)
    settle(plain)
    r["mem_plain"] = plain.memory()
    c.log(f"without the module: all {s.zones} zones answer {r['start_plain_s']:.1f} s after "
          f"start; {r['mem_plain']}")
    run.stop(plain)

    # With the module: the same, then the sync.
    k = setup.knot = setup.instance("module", with_module=True)
    k.adopt(setup.prepared)
    setup.cf.clear_counters()
    started = time.monotonic()
    r["start_module_s"] = c.start_knot(k, setup.names, timeout=3600)
    r["mem_module_loaded"] = k.memory()
    c.log(f"with the module: all zones answer {r['start_module_s']:.1f} s after start; "
          f"{r['mem_module_loaded']}")
    synced = setup.synced = wait_in_sync(setup, started, s.sync_timeout)
    r["synced"] = len(synced)
    if synced:
        times = list(synced.values())
        r["sync_p50_s"] = c.percentile(times, 50)
        r["sync_all_s"] = max(times) if len(synced) == s.zones else None
    sync_counters = setup.cf.counters()
    r["sync_requests"] = sync_counters["total"]
    r["sync_timeout"] = s.sync_timeout
    r["reached"] = sum(1 for n in setup.names if n in sync_counters["zones"])
    c.log(f"in sync: {len(synced)}/{s.zones} zones; all after "
          f"{r.get('sync_all_s') or float('nan'):.0f} s; requests {r['sync_requests']}")

    # Steady state: one check interval, counted at the simulator per zone.
    if len(synced) == s.zones:
        # The last zones' follow-up passes (after a change, a pass comes soon)
        # are not steady state: let them pass first.
        c.log(f"steady state: {s.warmup} s of warm-up first")
        time.sleep(s.warmup)
        before = setup.cf.counters()
        t0 = time.monotonic()
        c.log(f"steady state: counting requests for one check interval ({s.interval} s)")
        time.sleep(s.interval)
        window = time.monotonic() - t0
        after = setup.cf.counters()
        per_zone = counter_diff(after, before)
        reads = [per_zone.get(n, {}).get("reads", 0) for n in setup.names]
        writes = [per_zone.get(n, {}).get("writes", 0) for n in setup.names]
        scale = s.interval / window
        r["steady"] = {
            "window_s": window,
            "reads_per_zone": sum(reads) / s.zones * scale,
            "reads_max": max(reads), "reads_min": min(reads),
            "writes": sum(writes),
            "unzoned": per_zone.get("", {}).get("requests", 0),
            "rate_limited": after["total"]["rate_limited"] - before["total"]["rate_limited"],
        }
        r["still_in_sync"] = all_still_in_sync(setup)
        c.log(f"steady state: {r['steady']}; still in sync: {r['still_in_sync']}")
    r["rate_limited_total"] = setup.cf.counters()["total"]["rate_limited"]
    settle(k, limit=30)
    r["mem_module"] = k.memory()
    r["log_summary"] = module_log_summary(k)
    mem = r["mem_module"]
    r["rss_ratio"] = mem["VmRSS"] / r["mem_plain"]["VmRSS"]
    r["hwm_ratio"] = mem["VmHWM"] / r["mem_plain"]["VmHWM"]
    r["start_ratio"] = r["start_module_s"] / r["start_plain_s"]
    print_sync(r)
    return r, setup


def print_sync(r):
    print("\n== Benchmark 1: zones in sync ==")
    for line in docgen.sync_lines(r):
        print("  " + line)


# ---- benchmark 3: ZSK rollover of R zones at once ---------------------------------------
def local_zsks(d, name):
    texts = d.rrset_texts(name, "DNSKEY")
    return None if texts is None else c._zsks(texts)


def rfc3339_epoch(ts):
    import datetime
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def bench_rollover(run, s, setup=None):
    if setup is None:
        r0, setup = bench_sync_setup_only(run, s)
    synced = getattr(setup, "synced", None)
    pool = [n for n in setup.names if synced is None or n in synced]
    names = pool[:s.roll_zones]
    r = {"zones": len(names), "budget": s.budget_text(), "interval": s.interval,
         "of_zones": len(setup.names), "asked": s.roll_zones,
         "all_synced": synced is None or len(synced) == len(setup.names)}
    k = setup.knot
    d = c.Dns(k.port)
    before = {}
    for served in c.served_pages(setup.cf):
        if served["name"] in names:
            before[served["name"]] = c._zsks(served["dnskey"])
    for n in names:
        zs = local_zsks(d, n)
        before[n] = before[n] | (zs or set())
    seen_local, gaps = {}, []
    stop = threading.Event()

    def poll_local():
        dd = c.Dns(k.port)
        try:
            last = time.time()
            while not stop.is_set() and len(seen_local) < len(names):
                for n in names:
                    if n in seen_local:
                        continue
                    zs = local_zsks(dd, n)
                    new = (zs or set()) - before[n]
                    if new:
                        seen_local[n] = (time.time(), new)
                now = time.time()
                gaps.append(now - last)
                last = now
                stop.wait(0.05)
        finally:
            dd.close()

    counters_before = setup.cf.counters()
    poller = threading.Thread(target=poll_local, daemon=True)
    poller.start()
    t_cmd = {}
    t0 = time.time()
    for n in names:
        t_cmd[n] = time.time()
        k.knotc("zone-key-rollover", n, "zsk")
    r["commands_s"] = time.time() - t0
    c.log(f"rolled the ZSK of {len(names)} zones ({r['commands_s']:.1f} s of knotc)")

    at_cf = {}
    deadline = time.monotonic() + s.roll_timeout
    last_report = 0.0
    while len(at_cf) < len(names) and time.monotonic() < deadline:
        for served in c.served_pages(setup.cf):
            n = served["name"]
            if n in at_cf or n not in seen_local:
                continue
            new = seen_local[n][1]
            if new & c._zsks(served["dnskey"]):
                created = [rfc3339_epoch(rec["created_on"]) for rec in setup.cf.records(n)
                           if rec["type"] == "DNSKEY"
                           and rec["data"]["public_key"] in new]
                if created:
                    at_cf[n] = min(created)
        if time.monotonic() - last_report > 30:
            last_report = time.monotonic()
            c.log(f"  {len(seen_local)} new keys published locally, {len(at_cf)} at Cloudflare")
        if len(at_cf) < len(names):
            time.sleep(1.0)
    stop.set()
    poller.join(timeout=30)
    d.close()
    lat = [at_cf[n] - seen_local[n][0] for n in at_cf]
    from_cmd = [at_cf[n] - t_cmd[n] for n in at_cf]
    r["published"] = len(seen_local)
    r["at_cf"] = len(at_cf)
    r["poll_gap_max_s"] = max(gaps) if gaps else None
    r["publish_after_cmd_max_s"] = max((seen_local[n][0] - t_cmd[n] for n in seen_local),
                                       default=None)
    if lat:
        r["latency"] = {"p50": c.percentile(lat, 50), "p99": c.percentile(lat, 99),
                        "max": max(lat), "min": min(lat)}
        r["from_command"] = {"p50": c.percentile(from_cmd, 50),
                             "p99": c.percentile(from_cmd, 99), "max": max(from_cmd)}
    after = setup.cf.counters()
    r["requests"] = {k2: after["total"][k2] - counters_before["total"][k2]
                     for k2 in after["total"]}
    print("\n== Benchmark 3: ZSK rollover of many zones at once ==")
    for line in docgen.rollover_lines(r):
        print("  " + line)
    return r


def bench_sync_setup_only(run, s):
    """For `run.py rollover` alone: R zones, synced, without the sync figures."""
    s2 = Settings()
    s2.zones = s.roll_zones
    s2.__dict__.update({k: v for k, v in s.__dict__.items() if k != "zones"})
    setup = Setup(run, s2, s2.zones)
    setup.prepare()
    k = setup.knot = setup.instance("module", with_module=True)
    k.adopt(setup.prepared)
    started = time.monotonic()
    c.start_knot(k, setup.names, timeout=3600)
    synced = wait_in_sync(setup, started, s.sync_timeout)
    if len(synced) < len(setup.names):
        raise RuntimeError(f"only {len(synced)} of {len(setup.names)} zones in sync")
    return None, setup


# ---- benchmark 2: query throughput ------------------------------------------------------------
def dnsperf(knot, queryfile, seconds):
    out = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(knot.port), "-d", queryfile,
                          "-l", str(seconds), "-c", "8", "-q", "200", "-T", "1", "-D",
                          "-t", "2"],
                         capture_output=True, text=True, timeout=seconds + 60)
    m = re.search(r"Queries per second:\s+([\d.]+)", out.stdout)
    lost = re.search(r"Queries lost:\s+(\d+)", out.stdout)
    if not m:
        raise RuntimeError(f"dnsperf failed: {out.stdout[-1000:]}{out.stderr[-1000:]}")
    return float(m.group(1)), int(lost.group(1)) if lost else None


def bench_qps(run, s):
    if shutil.which("dnsperf") is None:
        raise RuntimeError("dnsperf is missing: run scripts/install-deps.sh")
    r = {"zones": s.qps_zones, "rounds": s.qps_rounds, "seconds": s.qps_seconds}
    s2 = Settings()
    s2.__dict__.update(s.__dict__)
    s2.interval = max(10, min(s.interval, 60))     # routine checks do run during the runs
    r["interval"] = s2.interval
    setup = Setup(run, s2, s.qps_zones)
    setup.prepare()
    qf = os.path.join(run.workdir, "queries.txt")
    with open(qf, "w") as f:
        for n in setup.names:
            f.write(f"www.{n} A\n{n} SOA\n{n} DNSKEY\nnothere.{n} A\n")
    plain = setup.instance("qps-plain", with_module=False)
    plain.adopt(setup.prepared)
    mod = setup.knot = setup.instance("qps-module", with_module=True)
    mod.adopt(setup.prepared)
    started = time.monotonic()
    c.start_knot(mod, setup.names, timeout=600)
    synced = wait_in_sync(setup, started, s.sync_timeout)
    r["synced"] = len(synced)
    run.stop(mod)
    results = {"plain": [], "module": []}
    for i in range(s.qps_rounds):
        order = (("plain", plain), ("module", mod)) if i % 2 == 0 else \
            (("module", mod), ("plain", plain))
        for label, k in order:
            setup.cf.clear_counters()
            c.start_knot(k, setup.names, timeout=600)
            if label == "module":
                # Past the passes every zone gets at load: routine checks only.
                c.wait_until(lambda: len(setup.cf.counters()["zones"]) >= len(setup.names),
                             300, interval=0.5, what="a pass of every zone")
            else:
                settle(k, seconds=2.0, limit=20)
            qps, lost = dnsperf(k, qf, s.qps_seconds)
            reqs = setup.cf.counters()["total"]["requests"]
            results[label].append(qps)
            c.log(f"round {i + 1}: {label}: {qps:.0f} queries/s (lost {lost}); "
                  f"{reqs} API requests meanwhile")
            run.stop(k)
    r["plain"] = results["plain"]
    r["module"] = results["module"]
    ratios = [m / p for m, p in zip(results["module"], results["plain"])]
    r["ratio_median"] = statistics.median(ratios)
    r["ratio_means"] = statistics.mean(results["module"]) / statistics.mean(results["plain"])
    print("\n== Benchmark 2: query throughput ==")
    for line in docgen.qps_lines(r):
        print("  " + line)
    return r


# ---- main ----------------------------------------------------------------------------------
def machine():
    return {"nproc": os.cpu_count(), "knot": c.knot_version(), "module": c.module_commit(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load_before": c.load_average(),
            "cpu": _cpu_model()}


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def on_sigterm(signum, frame):
    raise KeyboardInterrupt     # the same clean-up as Ctrl-C


def write_doc(s, m, results):
    """Write these results' sections of the doc (BENCH_DOC) at once, so that a
    later benchmark that fails or is interrupted loses only its own."""
    if not s.doc:
        return
    if "load_after" not in m:  # a saved run (`run.py doc`) keeps its own
        m = dict(m, load_after=c.load_average())
    written = docgen.write(s.doc, m, results)
    c.log(f"wrote {', '.join(written) or 'no section'} of {s.doc}"
          + ("" if len(written) == len(results) else
             f"; it has no section for {len(results) - len(written)} of the results "
             f"(the figures are printed above)"))


def main(argv):
    which = argv[1] if len(argv) > 1 else "all"
    if which not in ("sync", "rollover", "qps", "all", "prepare", "doc"):
        print(__doc__)
        return 2
    s = Settings()
    if which == "doc":
        # run.py doc RESULTS.json: the sections of a saved run (BENCH_KEEP's results.json)
        with open(argv[2]) as f:
            saved = json.load(f)
        write_doc(s, saved["machine"], saved["results"])
        return 0
    if not os.path.exists(s.module_so):
        print(f"{s.module_so} not found: run make first (or set MS_MODULE_SO)")
        return 2
    run = c.Run(s.workdir, s.module_so)
    signal.signal(signal.SIGTERM, on_sigterm)
    m = machine()
    c.log(f"benchmarks in {s.workdir}: {m}")
    results = {}
    if which == "prepare":
        if not s.cache:
            print("run.py prepare needs BENCH_CACHE")
            return 2
        try:
            Setup(run, s, s.zones).prepare()
        finally:
            run.close()
        return 0

    def done(name, r):
        results[name] = r
        write_doc(s, m, {name: r})

    try:
        setup = None
        if which in ("sync", "all"):
            r, setup = bench_sync(run, s)
            done("sync", r)
        if which in ("rollover", "all"):
            if setup is not None and not setup.synced:
                c.log("no zone in sync: the rollover benchmark is skipped")
            else:
                done("rollover", bench_rollover(run, s, setup))
        run.close()
        if which in ("qps", "all"):
            done("qps", bench_qps(run, s))
    finally:
        run.close()
        m["load_after"] = c.load_average()
        with open(os.path.join(s.workdir, "results.json"), "w") as f:
            json.dump({"machine": m, "results": results}, f, indent=1, default=str)
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(s.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:
        print("interrupted; every process was stopped", file=sys.stderr)
        sys.exit(130)
