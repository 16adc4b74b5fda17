"""The figures of tests/bench/run.py as text, and the generated sections of
doc/benchmarks.md. Only the text between a section's markers is replaced;
the method text around them is written by hand."""
import os
import re


def _s(x, fmt="{:.1f}"):
    return "n/a" if x is None else fmt.format(x)


def _mib(kib):
    return f"{kib / 1024:.1f} MiB"


def machine_line(m):
    # Only the load before the run says whether something else was busy: the
    # load after includes the run's own knotd, simulator and dnsperf. The
    # 1-minute average also still counts a run that ended just before.
    before, after = m.get("load_before", 0), m.get("load_after", 0)
    loads = f"load average {before:.1f} before, {after:.1f} after, the run's own included"
    note = (f"; **busy machine at the start** ({loads}: other processes were running "
            f"or had just ended)"
            if before >= 0.5 * (m.get("nproc") or 1) else f"; {loads}")
    return (f"Taken {m['date']} on {m['nproc']} CPUs ({m['cpu']}), Knot DNS {m['knot']}, "
            f"module at commit {m['module']}{note}.")


def sync_lines(r):
    out = [f"zones: {r['zones']}; request budget: {r['budget']} at the simulator"
           + (f" and the module's `{r['budget_item']}`" if r.get("budget_item")
              else " (the module kept its built-in budget: this build has no option for it)")
           + f"; check-interval: {r['interval']} s",
           f"keys and first signatures (knotd alone, before the measured runs): "
           f"{_s(r.get('prepare_s'))} s"]
    out.append(f"start until every zone answers: {_s(r['start_module_s'])} s with the module, "
               f"{_s(r['start_plain_s'])} s without: ratio {_s(r['start_ratio'], '{:.2f}')}")
    mp, mm = r["mem_plain"], r["mem_module"]
    out.append(f"knotd memory: VmRSS {_mib(mm['VmRSS'])} with the module (end of the run) vs "
               f"{_mib(mp['VmRSS'])} without: ratio {r['rss_ratio']:.2f}; VmHWM "
               f"{_mib(mm['VmHWM'])} vs {_mib(mp['VmHWM'])}: ratio {r['hwm_ratio']:.2f}"
               f" (with the module, just loaded: VmRSS {_mib(r['mem_module_loaded']['VmRSS'])})")
    if r.get("sync_all_s") is not None:
        out.append(f"all {r['zones']} zones in sync {r['sync_all_s']:.0f} s after knotd "
                   f"started (half of them after {r['sync_p50_s']:.0f} s)")
    else:
        out.append(f"NOT all zones in sync within the time limit of {r['sync_timeout']} s: "
                   f"{r['synced']} of {r['zones']}"
                   + (f" (half of those after {r['sync_p50_s']:.0f} s)"
                      if r.get("sync_p50_s") is not None else "")
                   + f"; the module had sent requests about {r.get('reached')} zones")
    q = r.get("sync_requests") or {}
    if q:
        out.append(f"API requests until then: {q['requests']} ({q['reads']} reads, "
                   f"{q['writes']} writes, {q['rate_limited']} answered 429, "
                   f"{q['failed']} other failures); "
                   f"{q['requests'] / max(1, r['zones']):.1f} per zone")
    st = r.get("steady")
    if st:
        out.append(f"steady state over {st['window_s']:.0f} s, from {r.get('warmup', 0)} s "
                   f"after the last zone was in sync: {st['reads_per_zone']:.2f} "
                   f"read requests per zone per check interval (min {st['reads_min']}, "
                   f"max {st['reads_max']} per zone), {st['writes']} writes, "
                   f"{st['unzoned']} requests about no zone, {st['rate_limited']} answered 429;"
                   f" zones still in sync afterwards: {r.get('still_in_sync')}")
    else:
        out.append("steady state: not measured (not all zones were in sync)")
    out.append(f"429 answers over the whole run: {r['rate_limited_total']}")
    for text, n in r.get("log_summary") or []:
        out.append(f"module log, {n}x: {text[:160]}")
    return out


def rollover_lines(r):
    out = [] if r.get("all_synced", True) else [
        f"NOTE: not all {r['of_zones']} zones were in sync, so only {r['zones']} of the "
        f"{r['asked']} asked for rolled (zones in sync only)"]
    out += [f"{r['zones']} zones (of {r['of_zones']} in knotd) rolled their ZSK at once; "
           f"request budget {r['budget']}, check-interval {r['interval']} s; "
           f"`knotc zone-key-rollover` for all of them took {r['commands_s']:.1f} s"]
    out.append(f"new keys seen in knotd's DNSKEY RRset: {r['published']}; at Cloudflare: "
               f"{r['at_cf']}; polling knotd took at most {_s(r.get('poll_gap_max_s'))} s "
               f"per round")
    lat = r.get("latency")
    if lat:
        out.append(f"local publication -> record at Cloudflare: p50 {lat['p50']:.1f} s, "
                   f"p99 {lat['p99']:.1f} s, max {lat['max']:.1f} s (min {lat['min']:.1f} s)")
        fc = r["from_command"]
        out.append(f"from the knotc command: p50 {fc['p50']:.1f} s, p99 {fc['p99']:.1f} s, "
                   f"max {fc['max']:.1f} s")
    q = r["requests"]
    out.append(f"API requests meanwhile: {q['requests']} ({q['reads']} reads, {q['writes']} "
               f"writes, {q['rate_limited']} answered 429)")
    return out


def qps_lines(r):
    fmt = ", ".join
    return [f"{r['zones']} zones, {r['rounds']} alternating rounds of {r['seconds']} s of "
            f"dnsperf each (module check-interval {r['interval']} s, zones in sync: "
            f"{r['synced']})",
            f"without the module: {fmt(f'{x:.0f}' for x in r['plain'])} queries/s",
            f"with the module:    {fmt(f'{x:.0f}' for x in r['module'])} queries/s",
            f"ratio with/without: {r['ratio_median']:.3f} (median of rounds), "
            f"{r['ratio_means']:.3f} (ratio of means); target >= 0.98"]


SECTIONS = {"sync": sync_lines, "rollover": rollover_lines, "qps": qps_lines}


def block(name, section, machine, r):
    lines = [f"<!-- BEGIN GENERATED {section} (tests/bench/run.py; do not edit) -->",
             machine_line(machine), "", "```"]
    lines += SECTIONS[name](r)
    lines += ["```", f"<!-- END GENERATED {section} -->"]
    return "\n".join(lines)


def _section(name, r):
    """Sections are per benchmark, and may be per zone count: `sync 10000`
    before `sync`, so that a full run and a smaller one both have a place."""
    return [f"{name} {r['zones']}", name]


def write(path, machine, results):
    """Rewrite the sections of these results; returns the sections written."""
    with open(path) as f:
        text = f.read()
    written = []
    for name, r in results.items():
        for section in _section(name, r):
            pattern = re.compile(rf"<!-- BEGIN GENERATED {section} \(.*?"
                                 rf"<!-- END GENERATED {section} -->", re.S)
            if pattern.search(text):
                text = pattern.sub(lambda _m, n=name, sec=section, rr=r:
                                   block(n, sec, machine, rr), text, count=1)
                written.append(section)
                break
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return written
