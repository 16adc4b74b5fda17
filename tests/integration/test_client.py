"""The C Cloudflare API client (module/cf_client.c) against the simulator.

Every client call and every fault class goes through the C test driver
tests/tools/cfclient_cli, which prints one JSON object per run:
    {"ok": bool, "command": ..., "result": {...} | "error": {rc, rc_name,
     http_status, api_codes, message}, "requests": n, "failures": n,
     "elapsed_ms": n, "abort_latency_ms": n (when aborted)}
A few runs always go through valgrind; with MS_VALGRIND=1 every run that
does not measure time does.
"""
import json
import os
import shutil
import subprocess
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("MS_BUILDDIR") or os.path.join(HERE, "..", "..")
DRIVER = os.path.abspath(os.path.join(BUILD, "tests", "tools", "cfclient_cli"))
# A build with sanitizers (MS_SANITIZERS=1, scripts/test-sanitizers.sh) cannot
# run under valgrind: ASan and memcheck both own the process's memory.
VALGRIND = None if os.environ.get("MS_SANITIZERS") == "1" else shutil.which("valgrind")
VALGRIND_ALL = os.environ.get("MS_VALGRIND") == "1"

# Keys for records we create (throwaway P-256 public keys).
CF_EXAMPLE_KEY = ("oXiGYrSTO+LSCJ3mohc8EP+CzF9KxBj8/ydXJ22pKuZP3VAC3/Md/k7xZfz470CoRyZJ6gV6"
                  "vml07IC3d8xqhA==")
ZONE = "example.com"


@pytest.fixture(scope="module")
def driver():
    if not os.path.exists(DRIVER):
        pytest.fail(f"{DRIVER} not found: run `make` first (or set MS_BUILDDIR)")
    return DRIVER


class Cli:
    """Runs the driver against one simulator with its credential."""

    def __init__(self, driver, sim, tmp_path):
        self.driver = driver
        self.sim = sim
        self.tmp_path = tmp_path
        self.env = dict(os.environ, CFSIM_TOKEN=sim.token)

    def base_args(self, auth="token", ca=True, url=None):
        args = ["--url", url or self.sim.base_url]
        if auth == "token":
            args += ["--token-env", "CFSIM_TOKEN"]
        if ca and self.sim.ca_file:
            args += ["--ca-file", self.sim.ca_file]
        # Fast back-off so fault tests take little time.
        args += ["--base-delay-ms", "20"]
        return args

    def run(self, *args, auth="token", ca=True, url=None, valgrind=None, extra=(),
            env=None, timeout=60):
        use_vg = VALGRIND is not None and (valgrind is True or (valgrind is None
                                                                 and VALGRIND_ALL))
        cmd = [self.driver] + self.base_args(auth, ca, url) + list(extra) + list(args)
        if use_vg:
            cmd = [VALGRIND, "-q", "--error-exitcode=99", "--leak-check=full",
                   "--errors-for-leak-kinds=definite"] + cmd
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=env or self.env)
        assert proc.returncode in (0, 1), \
            f"driver exited {proc.returncode}: {proc.stderr[-3000:]}"
        out = json.loads(proc.stdout)
        out["_rc"] = proc.returncode
        out["_stderr"] = proc.stderr
        assert (proc.returncode == 0) == out["ok"]
        # Nothing the driver prints may contain the credential.
        assert self.sim.token not in proc.stdout + proc.stderr
        return out

    def ok(self, *args, **kw):
        out = self.run(*args, **kw)
        assert out["ok"], out
        return out["result"]

    def fails(self, *args, **kw):
        out = self.run(*args, **kw)
        assert not out["ok"], out
        return out


@pytest.fixture
def tls_cli(driver, cfsim_tls, tmp_path):
    return Cli(driver, cfsim_tls, tmp_path)


@pytest.fixture
def cli(driver, cfsim, tmp_path):
    return Cli(driver, cfsim, tmp_path)


def signed_zone(sim, **kw):
    """A zone with DNSSEC on in multi-signer mode, as the module sets it up."""
    z = sim.create_zone(ZONE, **kw)
    sim.set_dnssec(z["id"], status="active", dnssec_multi_signer=True)
    sim.set_dns_settings(z["id"], multi_provider=True)
    return z["id"]


def api_log(sim):
    return [e for e in sim.log() if e["path"].startswith("/client/v4/")]


# ---- every call, over HTTPS with the simulator's CA ----------------------------------


def test_token_and_zone_calls(tls_cli, cfsim_tls):
    z = cfsim_tls.create_zone(ZONE)
    tok = tls_cli.ok("verify", valgrind=True)
    assert tok["status"] == "active" and tok["active"] is True
    found = tls_cli.ok("find-zone", "Example.COM.")
    assert found["id"] == z["id"]
    assert found["name"] == ZONE
    assert found["name_servers"] == z["name_servers"]
    got = tls_cli.ok("zone", z["id"])
    assert got == found
    missing = tls_cli.fails("find-zone", "nowhere.example")
    assert missing["error"]["rc"] == "MS_ENOTFOUND"
    assert "no zone named nowhere.example" in missing["error"]["message"]


def test_dnssec_and_settings_calls(tls_cli, cfsim_tls):
    zid = cfsim_tls.create_zone(ZONE)["id"]
    d = tls_cli.ok("dnssec", zid)
    assert d["status"] == "disabled" and d["ksk"] is None and not d["enabled"]
    d = tls_cli.ok("dnssec-patch", zid, "status=active", "multi_signer=true")
    assert d["status"] == "pending" and d["enabled"] and d["multi_signer"]
    ksk = cfsim_tls.keys(zid)["ksk"]
    assert d["ksk"]["public_key"] == ksk["public_key"]
    assert d["ksk"]["key_tag"] == d["key_tag"] == ksk["key_tag"]
    assert d["ksk"]["flags"] == 257 and d["ksk"]["algorithm"] == 13
    assert cfsim_tls.zone(zid)["dnssec"]["dnssec_multi_signer"] is True
    s = tls_cli.ok("settings", zid)
    assert s["multi_provider"] is False
    s = tls_cli.ok("multi-provider", zid, "true")
    assert s["multi_provider"] is True
    assert cfsim_tls.zone(zid)["dns_settings"]["multi_provider"] is True
    assert tls_cli.ok("settings", zid)["multi_provider"] is True
    bodies = [e["body"] for e in api_log(cfsim_tls) if e["method"] == "PATCH"]
    assert {"status": "active", "dnssec_multi_signer": True} in bodies
    assert {"multi_provider": True} in bodies


def test_record_calls(tls_cli, cfsim_tls):
    zid = signed_zone(cfsim_tls)
    rdata = f"256 3 13 {CF_EXAMPLE_KEY}"
    made = tls_cli.ok("create-dnskey", zid, ZONE, "3600", rdata, "knot-multisigner",
                      valgrind=True)
    assert made["type"] == "DNSKEY" and made["comment"] == "knot-multisigner"
    assert made["dnskey"]["key_tag"] == 16952
    ns = tls_cli.ok("create-ns", zid, ZONE, "86400", "ns1.example.net")
    assert ns["ns_host"] == "ns1.example.net" and ns["comment"] is None
    keys = tls_cli.ok("list", zid, "DNSKEY", ZONE)["records"]
    assert [r["id"] for r in keys] == [made["id"]]
    assert keys[0]["dnskey"]["public_key"] == CF_EXAMPLE_KEY
    nss = tls_cli.ok("list", zid, "NS", ZONE)["records"]
    assert [r["ns_host"] for r in nss] == ["ns1.example.net"]
    # Both types in one request; other apex types and other owners are left out.
    cfsim_tls.add_record(zid, {"type": "TXT", "name": ZONE, "content": "v=spf1 -all"})
    cfsim_tls.add_record(zid, {"type": "NS", "name": f"sub.{ZONE}",
                               "content": "ns9.example.net"})
    before = len(api_log(cfsim_tls))
    both = tls_cli.ok("list", zid, "NS+DNSKEY", ZONE)["records"]
    assert sorted(r["id"] for r in both) == sorted([made["id"], ns["id"]])
    lists = [e for e in api_log(cfsim_tls)[before:] if e["path"].endswith("/dns_records")]
    assert len(lists) == 1 and "type" not in lists[0]["query"]

    # Batch: delete the NS, add another DNSKEY and NS, in one request.
    ksk = cfsim_tls.keys(zid)["ksk"]["public_key"]
    batch = tls_cli.ok("batch", zid, f"del:{ns['id']}",
                       f"dnskey:{ZONE}:3600:257 3 13 {ksk}:imported KSK",
                       f"ns:{ZONE}:86400:ns2.example.net")
    created = batch["created"]
    assert [r["type"] for r in created] == ["DNSKEY", "NS"]
    hosts = sorted(r["ns_host"] for r in tls_cli.ok("list", zid, "NS", ZONE)["records"])
    assert hosts == ["ns2.example.net"]
    assert len(tls_cli.ok("list", zid, "DNSKEY", ZONE)["records"]) == 2
    batches = [e for e in api_log(cfsim_tls) if e["path"].endswith("/dns_records/batch")]
    assert len(batches) == 1

    deleted = tls_cli.ok("delete", zid, made["id"])
    assert deleted["deleted"] == made["id"]
    again = tls_cli.fails("delete", zid, made["id"])
    assert again["error"]["rc"] == "MS_ENOTFOUND"
    assert again["error"]["api_codes"] == [81044]
    assert again["requests"] == 1


def test_record_errors(tls_cli, cfsim_tls):
    zid = cfsim_tls.create_zone(ZONE)["id"]
    cfsim_tls.set_dnssec(zid, status="active")
    rdata = f"256 3 13 {CF_EXAMPLE_KEY}"
    # DNSKEY while multi-signer is off: 1004 with the reason in its chain.
    out = tls_cli.fails("create-dnskey", zid, ZONE, "3600", rdata)
    err = out["error"]
    assert err["rc"] == "MS_EAPI" and err["http_status"] == 400
    assert err["api_codes"][0] == 1004 and len(err["api_codes"]) == 2
    assert "DNS Validation Error [" in err["message"]
    assert out["requests"] == 1           # a 4xx is never retried
    cfsim_tls.set_dnssec(zid, dnssec_multi_signer=True)
    tls_cli.ok("create-dnskey", zid, ZONE, "3600", rdata)
    dup = tls_cli.fails("create-dnskey", zid, ZONE, "3600", rdata)["error"]
    assert dup["api_codes"] == [81058] and "identical record" in dup["message"]
    # Our own checks refuse before sending.
    bad = tls_cli.fails("create-ns", zid, ZONE, "30", "ns1.example.net")
    assert bad["error"]["rc"] == "MS_EINVAL" and bad["requests"] == 0
    # An unknown zone id.
    other = tls_cli.fails("dnssec", "0" * 32)["error"]
    assert other["rc"] == "MS_EAPI" and other["http_status"] in (400, 403, 404)


def test_cloudflare_zsks(tls_cli, cfsim_tls):
    zid = signed_zone(cfsim_tls)
    zsks = tls_cli.ok("zsk", zid, valgrind=True)["zsks"]
    want = cfsim_tls.keys(zid)["zsks"]
    assert [(z["key"]["key_tag"], z["key"]["public_key"]) for z in zsks] == \
        [(k["key_tag"], k["public_key"]) for k in want]
    assert [z["state"] for z in zsks] == ["active"]
    assert zsks[0]["served"] and zsks[0]["ttl"] == 3600
    cfsim_tls.zsk_rollover(zid, "publish")
    zsks = tls_cli.ok("zsk", zid)["zsks"]
    assert sorted(z["state"] for z in zsks) == ["active", "publish"]
    assert all(z["served"] for z in zsks)
    assert len({z["key"]["key_tag"] for z in zsks}) == 2


# ---- credentials, TLS and transport refusals ---------------------------------------------


def test_global_key_credential(driver, cfsim, tmp_path):
    zid = cfsim.create_zone(ZONE)["id"]
    key_file = tmp_path / "global.key"
    key_file.write_text(cfsim.api_key + "\n")
    key_file.chmod(0o600)
    cli = Cli(driver, cfsim, tmp_path)
    extra = ["--email", cfsim.email, "--key-file", str(key_file)]
    assert cli.ok("zone", zid, auth="key", extra=extra)["id"] == zid
    assert api_log(cfsim)[-1]["auth"] == "email_key"
    out = cli.fails("verify", auth="key", extra=extra)
    assert out["error"]["rc"] == "MS_EINVAL" and out["requests"] == 0


def test_bad_credentials(cli, cfsim):
    zid = cfsim.create_zone(ZONE)["id"]
    env = dict(os.environ, CFSIM_TOKEN="not-a-valid-token")
    out = cli.fails("zone", zid, env=env)
    err = out["error"]
    assert err["rc"] == "MS_EAPI" and err["http_status"] == 403 and err["api_codes"] == [9109]
    assert "check the API credential" in err["message"]
    assert out["requests"] == 1
    assert "not-a-valid-token" not in json.dumps(out)
    out = cli.fails("verify", env=env)
    assert out["error"]["api_codes"] == [1000] and out["error"]["http_status"] == 401
    # A token without the permission.
    cfsim.add_token("read-only-token", permissions=["zone_read", "dns_read"])
    env = dict(os.environ, CFSIM_TOKEN="read-only-token")
    out = cli.fails("multi-provider", zid, "true", env=env)
    assert out["error"]["api_codes"] == [10000]
    assert "lacks a permission" in out["error"]["message"]


def test_tls_is_verified(tls_cli, cfsim_tls):
    zid = cfsim_tls.create_zone(ZONE)["id"]
    # Without the test CA the simulator's certificate is not trusted; that
    # does not heal with retries, so there is exactly one attempt.
    out = tls_cli.fails("zone", zid, ca=False)
    assert out["error"]["rc"] == "MS_ETRANSPORT"
    assert "ca-file" in out["error"]["message"]
    assert out["requests"] == 1
    assert api_log(cfsim_tls) == []


def test_plain_http_only_to_loopback(cli, cfsim):
    zid = cfsim.create_zone(ZONE)["id"]
    assert cli.ok("zone", zid)["id"] == zid        # http://127.0.0.1 is fine
    url = cfsim.base_url.replace("127.0.0.1", "192.0.2.1")
    out = cli.fails("zone", zid, url=url)
    assert out["error"]["rc"] == "MS_EINVAL" and out["requests"] == 0
    assert "loopback" in out["error"]["message"]


# ---- paging and the request budget ----------------------------------------------------------


def add_ns_records(sim, zid, n):
    for i in range(n):
        sim.add_record(zid, {"type": "NS", "name": ZONE, "content": f"ns{i:02d}.example.net",
                             "ttl": 86400})


def max_in_window(times, window):
    worst, start = 0, 0
    for i, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        worst = max(worst, i - start + 1)
    return worst


def parse_time(stamp):
    import datetime
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def test_small_pages_low_rate_limit_never_429(tls_cli, cfsim_tls):
    zid = signed_zone(cfsim_tls)
    add_ns_records(cfsim_tls, zid, 23)
    limit, window = 20, 2
    cfsim_tls.set_rate_limit(limit, window)
    cfsim_tls.clear_log()
    budget = ["--per-page", "3", "--rate-budget", str(limit), "--rate-window", str(window)]
    # 8 pages a listing, 5 listings: 40 requests, twice what one window allows.
    out = tls_cli.run("list", zid, "NS", ZONE, extra=budget + ["--repeat", "5"])
    assert out["ok"], out
    hosts = [r["ns_host"] for r in out["result"]["records"]]
    assert hosts == [f"ns{i:02d}.example.net" for i in range(23)]
    log = api_log(cfsim_tls)
    assert len(log) == out["requests"] == 40
    assert [e["query"]["page"] for e in log[:8]] == [str(p) for p in range(1, 9)]
    assert all(e["query"]["per_page"] == "3" for e in log)
    assert not any(e["rate_limited"] for e in log)
    assert all(e["status"] == 200 for e in log)
    times = [parse_time(e["time"]) for e in log]
    assert max_in_window(times, window) <= limit * 0.8 + 1


def test_follows_the_apis_remaining_count(tls_cli, cfsim_tls):
    """Another tool uses the same token: even with our own budget set far above
    the API's, the client keeps within what x-ratelimit-remaining allows and
    waits for the reset instead of running into a 429."""
    zid = signed_zone(cfsim_tls)
    add_ns_records(cfsim_tls, zid, 23)
    cfsim_tls.set_rate_limit(20, 2)
    for _ in range(15):                      # the other tool
        assert cfsim_tls.get("/user/tokens/verify").status == 200
    cfsim_tls.clear_log()
    out = tls_cli.run("list", zid, "NS", ZONE,
                      extra=["--per-page", "3", "--rate-budget", "100000", "--repeat", "2"])
    assert out["ok"], out
    assert len(out["result"]["records"]) == 23
    log = api_log(cfsim_tls)
    assert len(log) == 16
    assert not any(e["rate_limited"] for e in log)


def test_waits_out_a_real_block(cli, cfsim):
    """The budget is blown by someone else: the API blocks the token and says
    for how long; the client waits that long once, then succeeds."""
    zid = signed_zone(cfsim)
    cfsim.set_rate_limit(10, 2)
    statuses = [cfsim.get("/user/tokens/verify").status for _ in range(11)]
    assert statuses[-1] == 429
    cfsim.clear_log()
    start = time.monotonic()
    out = cli.run("dnssec", zid)
    assert out["ok"], out
    log = api_log(cfsim)
    assert [e["status"] for e in log] == [429, 200]
    assert out["requests"] == 2
    assert time.monotonic() - start >= 1.0


def test_page_size_set_by_the_api(tls_cli, cfsim_tls):
    """The API may give fewer per page than asked: total_count drives paging."""
    zid = signed_zone(cfsim_tls)
    add_ns_records(cfsim_tls, zid, 7)
    cfsim_tls.set_page_size(2, 2)
    cfsim_tls.clear_log()
    out = tls_cli.run("list", zid, "NS", ZONE, valgrind=True)
    assert out["ok"] and len(out["result"]["records"]) == 7
    assert out["requests"] == 4


def test_listing_while_records_change(tls_cli, cfsim_tls):
    zid = signed_zone(cfsim_tls)
    add_ns_records(cfsim_tls, zid, 5)
    # Right after the first page, a record is added ahead of the cursor.
    cfsim_tls.add_trigger({"op": "add_record", "zone": zid,
                           "record": {"type": "NS", "name": ZONE, "content": "aaa.example.net",
                                      "ttl": 86400}},
                          method="GET", path=r"/dns_records$", after=1)
    out = tls_cli.run("list", zid, "NS", ZONE, extra=["--per-page", "2"])
    assert out["ok"], out
    hosts = sorted(r["ns_host"] for r in out["result"]["records"])
    assert hosts == sorted(["aaa.example.net"] + [f"ns{i:02d}.example.net" for i in range(5)])


# ---- faults: recovery, or a clean error and recovery on the next call ----------------------------

TRANSIENT = [
    ("status", {"status": 500, "count": 2}, 3),
    ("status", {"status": 503, "count": 3}, 4),
    ("status", {"status": 502, "count": 1}, 2),
    ("status", {"status": 408, "count": 1, "code": 10000, "message": "Request Timeout"}, 2),
    ("status", {"status": 409, "count": 1, "code": 1001, "message": "Conflict"}, 2),
    ("html", {"count": 2}, 3),
    ("drop", {"count": 1}, 2),
    ("reset", {"count": 1}, 2),
    ("truncated", {"count": 1}, 2),
    ("malformed_json", {"count": 1}, 2),
    ("empty", {"count": 1}, 2),
    ("wrong_types", {"count": 1}, 2),
]


@pytest.mark.parametrize("kind,spec,requests", TRANSIENT,
                         ids=[f"{k}-{s.get('status', '')}{s['count']}" for k, s, _ in TRANSIENT])
def test_recovers_from_transient_fault(cli, cfsim, kind, spec, requests):
    zid = signed_zone(cfsim)
    cfsim.add_fault(kind, method="GET", path=r"/dnssec$", **spec)
    out = cli.run("dnssec", zid)
    assert out["ok"], out
    assert out["result"]["multi_signer"] is True
    assert out["requests"] == requests and out["failures"] == requests - 1


def test_429_with_retry_after(cli, cfsim):
    zid = signed_zone(cfsim)
    cfsim.add_fault("status", status=429, retry_after=1, count=1, method="GET",
                    path=r"/dnssec$")
    start = time.monotonic()
    out = cli.run("dnssec", zid)
    assert out["ok"], out
    assert out["requests"] == 2
    assert time.monotonic() - start >= 1.0


def test_429_with_long_retry_after_gives_up(cli, cfsim):
    zid = signed_zone(cfsim)
    cfsim.add_fault("status", status=429, retry_after=600, count=1, method="GET",
                    path=r"/dnssec$")
    out = cli.run("dnssec", zid)
    assert not out["ok"]
    err = out["error"]
    assert err["http_status"] == 429 and err["api_codes"] == [971]
    assert out["requests"] == 1 and out["elapsed_ms"] < 2000


def test_delay_beyond_the_timeout(cli, cfsim):
    zid = signed_zone(cfsim)
    cfsim.add_fault("delay", delay=3, count=1, method="GET", path=r"/dnssec$")
    out = cli.run("dnssec", zid, extra=["--timeout-ms", "500"])
    assert out["ok"], out
    assert out["requests"] == 2
    assert out["elapsed_ms"] < 2500


def test_persistent_faults_end_in_clean_errors(cli, cfsim):
    zid = signed_zone(cfsim)
    cases = [
        ("status", {"status": 503}, "MS_EAPI", 503, "gave up after 4 attempts"),
        ("html", {}, "MS_EHTTP", 502, "body that is HTML"),
        ("delay", {"delay": 2}, "MS_ETIMEOUT", 0, "no complete answer within 300 ms"),
        ("drop", {}, "MS_ETRANSPORT", 0, "gave up after 4 attempts"),
        ("malformed_json", {}, "MS_EPARSE", 200, "truncated JSON"),
        ("oversized", {"size": 5 * 1024 * 1024}, "MS_ETOOBIG", 200, "larger than 4194304"),
    ]
    for kind, spec, rc, status, text in cases:
        cfsim.clear_faults()
        cfsim.add_fault(kind, method="GET", path=r"/dnssec$", count=20, **spec)
        out = cli.run("dnssec", zid, extra=["--timeout-ms", "300"])
        assert not out["ok"], (kind, out)
        err = out["error"]
        assert err["rc"] == rc, (kind, err)
        if status:
            assert err["http_status"] == status, (kind, err)
        assert text in err["message"], (kind, err)
        assert err["message"].startswith(f"GET /zones/{zid}/dnssec: "), err
        assert "<html" not in err["message"].lower()
        # Oversized bodies are not asked for again; the others up to 4 times.
        assert out["requests"] == (1 if kind == "oversized" else 4), (kind, out)
        cfsim.clear_faults()
        assert cli.ok("dnssec", zid)["multi_signer"] is True   # the next call recovers


def test_post_is_not_repeated_on_a_doubtful_answer(cli, cfsim):
    zid = signed_zone(cfsim)
    cfsim.add_fault("malformed_json", method="POST", path=r"/dns_records$", count=1, apply=True)
    out = cli.fails("create-ns", zid, ZONE, "86400", "ns1.example.net")
    assert out["error"]["rc"] == "MS_EPARSE" and out["requests"] == 1
    # It went through; the listing (which the planner does next) shows it.
    hosts = [r["ns_host"] for r in cli.ok("list", zid, "NS", ZONE)["records"]]
    assert hosts == ["ns1.example.net"]
    again = cli.fails("create-ns", zid, ZONE, "86400", "ns1.example.net")
    assert again["error"]["api_codes"] == [81058]


def test_lost_answer_to_a_retried_delete(cli, cfsim):
    zid = signed_zone(cfsim)
    rec = cli.ok("create-ns", zid, ZONE, "86400", "ns1.example.net")
    # The delete is applied, its answer lost; the retry finds nothing to delete.
    cfsim.add_fault("drop", method="DELETE", path=r"/dns_records/", count=1, apply=True)
    out = cli.fails("delete", zid, rec["id"])
    assert out["error"]["rc"] == "MS_ENOTFOUND" and out["requests"] == 2
    assert cli.ok("list", zid, "NS", ZONE)["records"] == []


def test_fault_on_a_later_page(tls_cli, cfsim_tls):
    zid = signed_zone(cfsim_tls)
    add_ns_records(cfsim_tls, zid, 6)
    cfsim_tls.add_fault("status", status=500, count=1, method="GET", path=r"/dns_records$")
    out = tls_cli.run("list", zid, "NS", ZONE, extra=["--per-page", "2"], valgrind=True)
    assert out["ok"], out
    assert len(out["result"]["records"]) == 6
    assert out["requests"] == 4


# ---- abort ------------------------------------------------------------------------------------


def test_abort_during_a_slow_request(tls_cli, cfsim_tls):
    zid = signed_zone(cfsim_tls)
    cfsim_tls.add_fault("delay", delay=10, count=1, method="GET", path=r"/dnssec$")
    out = tls_cli.run("dnssec", zid, extra=["--abort-after-ms", "300"], valgrind=False)
    assert out["error"]["rc"] == "MS_EABORTED"
    assert out["abort_latency_ms"] < 100
    assert out["elapsed_ms"] < 1000


def test_abort_during_backoff_and_budget_waits(cli, cfsim):
    zid = signed_zone(cfsim)
    cfsim.add_fault("status", status=503, count=50, method="GET", path=r"/dnssec$")
    out = cli.run("dnssec", zid, extra=["--abort-after-ms", "300", "--base-delay-ms", "10000",
                                        "--max-delay-ms", "20000"], valgrind=False)
    assert out["error"]["rc"] == "MS_EABORTED"
    assert out["abort_latency_ms"] < 100
    cfsim.clear_faults()
    # Waiting for the request budget: one request at once, the next in an hour.
    out = cli.run("dnssec", zid, extra=["--abort-after-ms", "300", "--repeat", "3",
                                        "--rate-budget", "2", "--rate-window", "3600",
                                        "--rate-pct", "100", "--max-rate-wait-ms", "3600000"],
                  valgrind=False)
    assert out["error"]["rc"] == "MS_EABORTED"
    assert out["abort_latency_ms"] < 100
    assert out["requests"] == 1
