"""The status file the module writes after each pass, read through the
knot-multisigner-status CLI in both forms, against a real knotd and the
simulated Cloudflare: key tags match keymgr and the API, NS match what each
side serves, the NS join shows as pending until it happens, and an API
failure shows as the last error until a pass succeeds again."""
import json
import os
import stat
import subprocess
import time

from sync_helpers import (CF_NAMESERVERS, CHECK_INTERVAL, FAST_POLICY, LOCAL_NAMESERVERS,
                          MARGIN, ZONE, Key, fast_zone_text)
from sync_helpers import sync_knot_factory, sync_pair, sync_pair_factory  # noqa: F401 (fixtures)

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("MS_SRCDIR") or os.path.join(HERE, "..", "..")
CLI = os.path.join(SRCDIR, "tools", "knot-multisigner-status")


def cli(*args, check=True):
    r = subprocess.run(["/usr/bin/python3", CLI, *args], capture_output=True, text=True,
                       timeout=60)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def state_dir(pair):
    return os.path.join(pair.knot.dir, "multisigner")


def status(pair):
    """The zone's status through `--json -d`, or None before the first pass."""
    if not os.path.exists(os.path.join(state_dir(pair), ZONE + ".status")):
        return None
    doc = json.loads(cli("--json", "-d", state_dir(pair)).stdout)
    assert doc["state_dir"] == state_dir(pair)
    assert [z["zone"] for z in doc["zones"]] == [ZONE]
    return doc["zones"][0]


def epoch(text):
    return time.mktime(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone


def test_status_shows_both_sides_pending_ns_join_and_ds_field(sync_pair):
    pair = sync_pair
    pair.wait(pair.keys_in_step, pair.keys_timeout, "initial key exchange")

    # Keys exchanged, NS not yet: the join shows as pending with a time that
    # lies within TTL_K of now (rule 8), as long as it has not happened.
    def join_pending():
        st = status(pair)
        return st and [p for p in st["pending"] if p["kind"] == "ns-join" and p["until"]]
    pending = pair.wait(join_pending, pair.keys_timeout + CHECK_INTERVAL + MARGIN,
                        "an ns-join pending in the status")
    if not pair.ns_in_step():
        until = epoch(pending[0]["until"])
        assert time.time() - MARGIN - CHECK_INTERVAL <= until <= \
            time.time() + pair.ttl_k + MARGIN, pending

    pair.wait(pair.ns_in_step, pair.ns_timeout, "NS in step")
    st = pair.wait(lambda: (lambda s: s if s and not s["pending"]
                            and set(CF_NAMESERVERS) <= set(s["knot"]["ns"]) else None)(
                                status(pair)),
                   2 * CHECK_INTERVAL + MARGIN, "a status with nothing pending")

    path = os.path.join(state_dir(pair), ZONE + ".status")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644

    # knotd's keys: exactly what keymgr lists, with roles and public-only.
    keymgr = {k["tag"]: k for k in pair.keymgr_keys()}
    knot_keys = {k["tag"]: k for k in st["knot"]["keys"]}
    assert set(knot_keys) == set(keymgr)
    for tag, k in knot_keys.items():
        assert k["role"] == ("ksk" if keymgr[tag]["ksk"] else "zsk")
        assert k["imported"] == keymgr[tag]["public-only"]
        assert k["served"] == (tag in {key.tag for key in pair.local_keys()})
    # Imported: Cloudflare's ZSKs and its KSK (public only).
    cf_ksk_tag = pair.cf.keys(ZONE)["ksk"]["key_tag"]
    assert {t for t, k in knot_keys.items() if k["imported"]} == \
        {k.tag for k in pair.cf_served_zsks()} | {cf_ksk_tag}
    assert knot_keys[cf_ksk_tag]["role"] == "ksk" and knot_keys[cf_ksk_tag]["served"]
    assert {t for t, k in knot_keys.items() if k["role"] == "zsk" and k["state"] == "active"
            and not k["imported"]} == pair.own_zsk_tags() & pair.soa_sig_tags()

    # Cloudflare's keys: its ZSKs as the API lists them, and its KSK.
    assert {(z["tag"], z["state"]) for z in st["cloudflare"]["zsks"]} == \
        {(z["key_tag"], z["tag"]) for z in pair.cf_zsk_entries()}
    dnssec = pair.cf.get(f"/zones/{pair.cf_zone_id}/dnssec").result
    assert st["cloudflare"]["ksk"]["tag"] == dnssec["key_tag"]
    assert st["cloudflare"]["ksk"]["state"] == dnssec["status"]
    assert st["cloudflare"]["dnssec"] == dnssec["status"]
    assert st["cloudflare"]["zone_id"] == pair.cf_zone_id
    assert st["cloudflare"]["multi_signer"] and st["cloudflare"]["multi_provider"]

    # NS: what knotd serves, Cloudflare's records and its assigned names.
    assert {n.lower() for n in st["knot"]["ns"]} == pair.local_ns()
    assert {n.lower() for n in st["cloudflare"]["ns"]} == \
        {r["content"].rstrip(".").lower() for r in pair.cf_ns_records()}
    assert set(LOCAL_NAMESERVERS) <= set(st["cloudflare"]["ns"])
    assert st["cloudflare"]["name_servers"] == CF_NAMESERVERS

    assert st["last_success"] is not None and st["last_error"] is None
    assert abs(epoch(st["last_success"]) - time.time()) < 3 * CHECK_INTERVAL + MARGIN
    # DS for the registrar: our KSK's as keymgr computes it, and Cloudflare's.
    ds = {d["provider"]: d["ds"].lower().split() for d in st["ds"]}
    assert sorted(d["provider"] for d in st["ds"]) == ["cloudflare", "knot"], st["ds"]
    keymgr_ds = [ln.lower().split() for ln in pair.knot.keymgr(ZONE, "ds").stdout.splitlines()
                 if " DS " in ln and ln.split()[-2] == "2"
                 and int(ln.split()[-4]) in {k.tag for k in pair.local_ksks()}]
    assert [ds["knot"][-4:]] == [ln[-4:] for ln in keymgr_ds], (ds, keymgr_ds)
    assert int(ds["cloudflare"][-4]) == dnssec["key_tag"]
    assert ds["cloudflare"][-1].lower() == dnssec["digest"].lower()

    # The same through knot.conf, and as a table for people.
    by_conf = json.loads(cli("--json", "-c", pair.knot.conf_path).stdout)
    assert by_conf["state_dir"] == state_dir(pair)
    assert by_conf["zones"][0]["zone"] == ZONE
    text = cli("-c", pair.knot.conf_path).stdout
    assert f"Zone {ZONE}" in text
    for tag in list(knot_keys) + [z["tag"] for z in st["cloudflare"]["zsks"]]:
        assert f" {tag} " in text, (tag, text)
    for name in CF_NAMESERVERS + LOCAL_NAMESERVERS:
        assert name in text
    assert "Last error:      none" in text
    assert "Pending\n    nothing" in text


def test_status_shows_last_error_until_a_pass_succeeds(sync_pair):
    pair = sync_pair
    pair.wait(lambda: (status(pair) or {}).get("last_success"),
              pair.keys_timeout, "a first successful pass")
    pair.cf.add_fault("status", status=503, code=10001, message="Service unavailable",
                      count=1000, path=".*")
    st = pair.wait(lambda: (status(pair) or {}).get("last_error") and status(pair),
                   2 * CHECK_INTERVAL + MARGIN, "a last error in the status")
    err = st["last_error"]
    assert "503" in err["message"], err
    assert abs(epoch(err["time"]) - time.time()) < 2 * CHECK_INTERVAL + MARGIN
    assert st["last_success"] is not None      # the earlier success stays shown
    assert epoch(st["last_success"]) <= epoch(err["time"])
    text = cli("-d", state_dir(pair), ZONE).stdout
    assert "Last error:" in text and "503" in text

    # A restart keeps the last success and error until a pass says otherwise.
    restarted = time.time()
    pair.restart()
    st2 = pair.wait(lambda: (lambda s: s if s and epoch(s["updated"]) >= int(restarted)
                             else None)(status(pair)),
                    2 * CHECK_INTERVAL + MARGIN, "a status written after the restart")
    assert st2["last_success"] == st["last_success"], (st, st2)
    assert st2["last_error"] and "503" in st2["last_error"]["message"]

    pair.cf.clear_faults()
    st = pair.wait(lambda: (lambda s: s if s and s["last_error"] is None else None)(
                       status(pair)), 8 * CHECK_INTERVAL + MARGIN, "the error cleared")
    assert epoch(st["last_success"]) >= epoch(st2["last_error"]["time"])


def test_status_shows_a_held_zsk_and_until_when(sync_pair_factory):
    """Rule 3 gate: while the API is down a new ZSK is held with no end known;
    once Cloudflare has it, until = when it was first confirmed + TTL_K."""
    pair = sync_pair_factory(policy=FAST_POLICY, text=fast_zone_text())
    pair.wait(pair.keys_in_step, pair.keys_timeout, "initial key exchange")
    old_tags = {k["tag"] for k in pair.keymgr_keys()}
    outage = 30
    pair.cf.add_fault("status", status=503, code=10000, duration=outage,
                      message="Service Unavailable")
    pair.knot.knotc("zone-key-rollover", ZONE, "zsk")

    def new_tag():
        tags = {k["tag"] for k in pair.keymgr_keys() if k["zsk"] and not k["public-only"]}
        new = tags - old_tags
        return new and new.pop()
    tag = pair.wait(new_tag, 30, "knotd's new ZSK")

    def hold(known_end):
        st = status(pair)
        held = [p for p in (st or {}).get("pending", [])
                if p["kind"] == "hold" and p["tag"] == tag and (p["until"] is not None) ==
                known_end]
        return held and (st, held[0])
    st, held = pair.wait(lambda: hold(False), outage, "the new ZSK held, end unknown")
    assert st["last_error"] and "503" in st["last_error"]["message"]

    st, held = pair.wait(lambda: hold(True), outage + 2 * CHECK_INTERVAL + MARGIN,
                         "the new ZSK held until a known time")
    records = [r for r in pair.cf_our_dnskey_records() if Key.from_cf_record(r).tag == tag]
    assert len(records) == 1, records
    created = epoch(records[0]["created_on"].split(".")[0].rstrip("Z") + "Z")
    until = epoch(held["until"])
    assert created + pair.ttl_k - 1 <= until <= created + pair.ttl_k + CHECK_INTERVAL + MARGIN, \
        (records[0]["created_on"], held, pair.ttl_k)
    # Once that time has passed knotd signs with it and nothing is held.
    pair.wait(lambda: tag in pair.soa_sig_tags(), until - time.time() + 2 * CHECK_INTERVAL +
              MARGIN, "knotd signing with the new ZSK")
    pair.wait(lambda: (lambda s: s and not [p for p in s["pending"] if p["kind"] == "hold"])(
        status(pair)), 2 * CHECK_INTERVAL + MARGIN, "no hold left in the status")


def test_cli_errors_are_clear(tmp_path):
    r = cli("-d", str(tmp_path / "nowhere"), check=False)
    assert r.returncode == 1 and "does not exist" in r.stderr
    (tmp_path / "example.org.status").write_text('{"version": 99, "zone": "example.org"}')
    r = cli("-d", str(tmp_path), check=False)
    assert r.returncode == 1 and "unknown status version" in r.stderr
    r = cli("-d", str(tmp_path), "example.net", check=False)
    assert r.returncode == 1 and "no status for example.net" in r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = cli("-d", str(empty))
    assert "No zone status" in r.stdout
    assert json.loads(cli("--json", "-d", str(empty)).stdout)["zones"] == []


def fake_status(zone, tag):
    """A status file as the module writes it (shape of doc/mod-multisigner.rst)."""
    return {"version": 1, "zone": zone, "updated": "2026-01-01T00:00:00Z", "dry_run": False,
            "last_success": "2026-01-01T00:00:00Z", "last_error": None,
            "knot": {"complete": True, "ns": ["ns1.example.net"],
                     "keys": [{"tag": tag, "algorithm": 13, "role": "zsk", "state": "active",
                               "imported": False, "served": True,
                               "publish": "2025-12-01T00:00:00Z",
                               "active": "2025-12-01T01:00:00Z", "retire": None,
                               "remove": None}]},
            "cloudflare": {"complete": True, "zone_id": "0" * 32, "dnssec": "active",
                           "multi_signer": True, "multi_provider": True, "zsks": [],
                           "ksk": None, "name_servers": [], "ns": []},
            "pending": [{"kind": "removal", "tag": 4711, "until": "2026-01-02T00:00:00Z"}],
            "ds": [{"provider": "knot", "ds": f"{zone}. IN DS {tag} 13 2 AB"}]}


def test_cli_lists_every_zone_and_filters(tmp_path):
    for zone, tag in (("example.org", 111), ("example.net", 222)):
        (tmp_path / f"{zone}.status").write_text(json.dumps(fake_status(zone, tag)))
    (tmp_path / "example.org.json").write_text("{}")       # the state file: not a status
    doc = json.loads(cli("--json", "-d", str(tmp_path)).stdout)
    assert [z["zone"] for z in doc["zones"]] == ["example.net", "example.org"]
    text = cli("-d", str(tmp_path)).stdout
    assert text.index("Zone example.net") < text.index("Zone example.org")
    assert "ZSK   111" in text and "ZSK   222" in text
    assert "Cloudflare's old ZSK 4711 leaves knotd's DNSKEY set, not before " \
           "2026-01-02T00:00:00Z" in text
    assert "example.org. IN DS 111 13 2 AB" in text
    only = cli("-d", str(tmp_path), "EXAMPLE.org.").stdout
    assert "Zone example.org" in only and "Zone example.net" not in only
