"""The module builds, loads into a real knotd, and its configuration is checked
the way Knot's own modules are: by `knotc conf-check` and at knotd's start."""
import os
import re
import subprocess

import dns.dnssec
import dns.name
import pytest

from knot_instance import wait_until

ZONE = "example.com"
TOKEN = "cfut_Sup3rSecretT0ken-value"
UNUSED_API = "http://127.0.0.1:9/client/v4"   # the discard port: nothing is sent yet


def configure(knot, **items):
    token = knot.write_secret("token", TOKEN + "\n")
    settings = {"api_url": UNUSED_API, "api_token_file": token}
    settings.update(items)
    knot.add_module_section("cf", **{k: v for k, v in settings.items() if v is not None})
    knot.add_zone(ZONE)
    return knot


def test_exports_only_the_module_api(module_so):
    out = subprocess.run(["nm", "-D", "--defined-only", module_so],
                         capture_output=True, text=True, check=True).stdout
    exported = {line.split()[-1] for line in out.splitlines() if " D " in line or " T " in line}
    assert exported == {"knotd_mod_api"}


def test_loads_logs_and_serves_signed_zone(knot):
    configure(knot, nameserver=["ns1.example.net", "ns2.example.net"],
              api_budget="3000").start()
    line = knot.wait_log("syncing with Cloudflare at")
    log = knot.read_log()
    assert f"[{ZONE}.] module 'mod-multisigner/cf'" in log
    assert f"syncing with Cloudflare at {UNUSED_API}, zone id looked up by name, " \
           "API token auth, 2 nameserver(s) to publish, check every 60 s, " \
           "API budget 3000 requests per 5 min" in log
    assert line

    # Signed with ECDSA P-256 (13): a KSK and a ZSK, and the signatures verify.
    dnskey = wait_until(lambda: knot.rrset(ZONE, "DNSKEY"), 10, what="DNSKEY RRset")
    assert sorted(r.flags for r in dnskey) == [256, 257]
    assert {r.algorithm for r in dnskey} == {13}
    origin = dns.name.from_text(ZONE)
    keys = {origin: dnskey}
    for rdtype in ("DNSKEY", "SOA", "NS"):
        rrset, sig = knot.rrset_and_sig(ZONE, rdtype)
        assert rrset is not None and sig is not None, rdtype
        dns.dnssec.validate(rrset, sig, keys)   # raises ValidationFailure if bogus
    www = knot.rrset(f"www.{ZONE}", "A")
    assert www is not None and www[0].address == "192.0.2.1"


def test_counters_are_registered(knot):
    configure(knot).start()
    out = knot.knotc("-f", "zone-stats", ZONE).stdout
    for counter in ("sync-passes", "changes", "api-requests", "api-failures"):
        assert re.search(rf"^\[{ZONE}\.\] mod-multisigner\.{counter} = \d+$", out, re.M), out


def test_secret_never_logged(knot):
    configure(knot, dry_run=True).start()
    knot.wait_log("syncing with Cloudflare at")
    assert "dry run: changes are logged, not made" in knot.read_log()
    knot.stop()
    assert TOKEN not in knot.read_log() + knot.read_stderr()


@pytest.mark.parametrize("items", [
    {"zone_id": "023e105f4ecef8ad9ca31a8372d0c353"},
    {"api_url": "https://api.cloudflare.com/client/v4"},
    {"api_url": "http://[::1]:8080/client/v4"},
    {"check_interval": "5m"},
    {"dry_run": True},
], ids=["zone-id", "https", "ipv6-loopback", "interval-5m", "dry-run"])
def test_good_configurations_pass(knot, items):
    r = configure(knot, **items).conf_check()
    assert r.returncode == 0, r.stdout + r.stderr


def test_legacy_credentials_pass(knot):
    key = knot.write_secret("global.key", "0123456789abcdef0123456789abcdef01234\n")
    knot.add_module_section("cf", api_url=UNUSED_API, api_email="ops@example.com",
                            api_key_file=key)
    knot.add_zone(ZONE)
    knot.start()
    knot.wait_log("e-mail + global key auth")


def test_ca_file_is_accepted(knot):
    ca = knot.write_secret("ca.pem", "-----BEGIN CERTIFICATE-----\n", mode=0o644)
    r = configure(knot, ca_file=ca).conf_check()
    assert r.returncode == 0, r.stderr


def bad_cases():
    """(id, how to break the config, the words the refusal must contain)."""
    def perm(mode):
        return lambda k: {"api_token_file": k.write_secret("token", TOKEN, mode=mode)}

    def symlink(k):
        os.symlink(k.write_secret("token.real", TOKEN), f"{k.dir}/token.link")
        return {"api_token_file": f"{k.dir}/token.link"}

    def fifo(k):
        os.mkfifo(f"{k.dir}/token.fifo", 0o600)
        return {"api_token_file": f"{k.dir}/token.fifo"}
    return [
        ("token-group-readable", perm(0o640),
         "api-token-file: '{dir}/token' is accessible by group or others (mode 0640)"),
        ("token-world-readable", perm(0o604),
         "api-token-file: '{dir}/token' is accessible by group or others (mode 0604)"),
        ("token-symlink", symlink,
         "api-token-file: '{dir}/token.link' is a symbolic link: name the file itself"),
        # Opening a FIFO must not wait for a writer: knotd would hang.
        ("token-fifo", fifo, "api-token-file: '{dir}/token.fifo' is not a regular file"),
        ("token-missing", lambda k: {"api_token_file": f"{k.dir}/nonexistent"},
         "api-token-file: cannot open '{dir}/nonexistent'"),
        ("token-empty", lambda k: {"api_token_file": k.write_secret("token", "\n")},
         "api-token-file: '{dir}/token' is empty"),
        ("key-file-group-readable",
         lambda k: {"api_token_file": None, "api_email": "ops@example.com",
                    "api_key_file": k.write_secret("key", "abc", mode=0o660)},
         "api-key-file: '{dir}/key' is accessible by group or others"),
        ("http-not-loopback", lambda k: {"api_url": "http://api.cloudflare.com/client/v4"},
         "api-url: plain http:// is allowed only to a loopback address"),
        ("http-private-address", lambda k: {"api_url": "http://10.0.0.1/client/v4"},
         "api-url: plain http:// is allowed only to a loopback address"),
        ("bad-scheme", lambda k: {"api_url": "ftp://127.0.0.1/"},
         "api-url: scheme 'ftp' is not supported"),
        ("zone-id-uppercase", lambda k: {"zone_id": "023E105F4ECEF8AD9CA31A8372D0C353"},
         "zone-id: '023E105F4ECEF8AD9CA31A8372D0C353' is not a Cloudflare zone id"),
        ("zone-id-short", lambda k: {"zone_id": "abc123"},
         "zone-id: 'abc123' is not a Cloudflare zone id"),
        ("interval-too-short", lambda k: {"check_interval": "5"},
         "check-interval: 5 s is out of range: use 10 s to 86400 s"),
        ("interval-too-long", lambda k: {"check_interval": "2d"},
         "check-interval: 172800 s is out of range"),
        ("budget-too-small", lambda k: {"api_budget": "9"},
         "api-budget: 9 is out of range: use 10 to 1000000"),
        ("both-credential-forms",
         lambda k: {"api_email": "ops@example.com", "api_key_file": k.write_secret("key", "abc")},
         "credentials: set either api-token-file or api-email with api-key-file, not both"),
        ("no-credentials", lambda k: {"api_token_file": None},
         "credentials: no credentials"),
        ("email-without-key", lambda k: {"api_token_file": None, "api_email": "ops@example.com"},
         "credentials: api-email and api-key-file must be set together"),
        ("email-malformed",
         lambda k: {"api_token_file": None, "api_email": "nobody",
                    "api_key_file": k.write_secret("key", "abc")},
         "api-email: 'nobody' is not an e-mail address"),
        ("ca-file-missing", lambda k: {"ca_file": f"{k.dir}/no-ca.pem"},
         "ca-file: '{dir}/no-ca.pem' is not a readable file"),
        ("verify-off-with-addresses",
         lambda k: {"verify_served": "off", "verify_address": "127.0.0.1"},
         "verify-served: verification is off, but verify-address lists servers"),
        ("too-many-resolvers",
         lambda k: {"verify_resolver": [f"127.0.0.{i}" for i in range(1, 5)]},
         "verify-resolver: 4 addresses given, at most 3 are supported"),
    ]


@pytest.mark.parametrize("case", bad_cases(), ids=[c[0] for c in bad_cases()])
def test_bad_configuration_is_refused(knot, case):
    _, breaker, expected = case
    configure(knot)
    knot.mod_sections["cf"].update({k.replace("_", "-"): v for k, v in breaker(knot).items()})
    for key in [k for k, v in knot.mod_sections["cf"].items() if v is None]:
        del knot.mod_sections["cf"][key]
    expected = expected.format(dir=knot.dir)

    checked = knot.conf_check()
    assert checked.returncode != 0
    assert "section 'mod-multisigner[cf]'" in checked.stderr
    assert expected in checked.stderr, checked.stderr

    knot.start(expect_ok=False)
    assert knot.wait_exit() != 0
    started = knot.read_stderr() + knot.read_log()
    assert expected in started, started
    assert TOKEN not in checked.stderr + started


@pytest.mark.parametrize("publish, level, text", [
    ("none", "info", "CDS/CDNSKEY: knotd publishes none (cds-cdnskey-publish: none)"),
    ("always", "warning", "the policy's cds-cdnskey-publish is not 'none': knotd publishes "
                          "CDS/CDNSKEY with its own KSK only"),
])
def test_cds_case_said_at_load(knot, publish, level, text):
    """Rule 6: which CDS/CDNSKEY case holds is said for the zone at load."""
    configure(knot)
    knot.policy["cds-cdnskey-publish"] = publish
    knot.start()
    knot.wait_log("syncing with Cloudflare at")
    lines = [ln for ln in knot.read_log().splitlines() if text in ln]
    assert len(lines) == 1, knot.read_log()
    assert f" {level}: [{ZONE}.] module 'mod-multisigner/cf'" in lines[0], lines[0]


def test_wrong_algorithm_is_refused_but_zone_served(knot):
    configure(knot)
    knot.policy["algorithm"] = "ecdsap384sha384"
    knot.start()
    knot.wait_log("not syncing this zone")
    assert "signs with algorithm 14, Cloudflare only with 13" in knot.read_log()
    dnskey = wait_until(lambda: knot.rrset(ZONE, "DNSKEY"), 10, what="DNSKEY RRset")
    assert {r.algorithm for r in dnskey} == {14}
    knot.stop()
    assert "syncing with Cloudflare" in knot.read_log()   # the load line still came


def test_unsafe_timing_is_warned_with_numbers(knot):
    configure(knot, check_interval="10").start()
    line = knot.wait_log("propagation-delay (2 s) is shorter than")
    assert line
    assert "10 s) + API latency (10 s) + largest DNSKEY TTL (3600 s)" in knot.read_log()
