"""Tests of the Cloudflare API simulator itself (tests/cfsim).

They pin the behaviour the module's client tests rely on: envelopes, error
codes, pagination, batch atomicity, auth, rate limiting, faults, keys, TLS.
"""

import base64
import http.client
import json
import re
import socket
import ssl
import threading
import time

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from cryptography.hazmat.primitives import serialization

from fixtures_cfsim import (CfsimAdminError, CfsimProcess, DEFAULT_TOKEN,  # noqa: F401
                            REFERENCE_DIR, cfsim, cfsim_factory, cfsim_tls)

ID_RE = re.compile(r"^[0-9a-f]{32}$")
RFC3339_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
PUB = "oXiGYrSTO+LSCJ3mohc8EP+CzF9KxBj8/ydXJ22pKuZP3VAC3/Md/k7xZfz470CoRyZJ6gV6vml07IC3d8xqhA=="


def dnskey_body(pub=PUB, flags=256, **extra):
    return {"type": "DNSKEY", "name": "example.com",
            "data": {"flags": flags, "protocol": 3, "algorithm": 13, "public_key": pub},
            "ttl": 3600, **extra}


def other_pub(cfsim, zone):
    """A second real public key (another zone's KSK) for distinct DNSKEYs."""
    return cfsim.keys(zone)["ksk"]["public_key"]


@pytest.fixture
def zone(cfsim):
    """example.com with DNSSEC pending and multi-signer on; returns the id."""
    z = cfsim.create_zone("example.com", dnssec={"status": "pending",
                                                 "dnssec_multi_signer": True})
    return z["id"]


def wait_until(pred, timeout=5.0, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return False


def error(resp):
    return resp.json["errors"][0]


def assert_failure(resp, status, code):
    assert resp.status == status, resp
    assert resp.json["success"] is False
    assert resp.json["result"] is None
    assert resp.json["messages"] == []
    assert error(resp)["code"] == code, resp.json


# --- envelopes and routing ------------------------------------------------------

def test_success_envelope_and_rate_headers(cfsim, zone):
    r = cfsim.get(f"/zones/{zone}")
    assert r.status == 200
    assert r.json["success"] is True and r.json["errors"] == [] and r.json["messages"] == []
    assert r.result["id"] == zone and r.result["name"] == "example.com"
    assert r.result["name_servers"] == ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"]
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["x-ratelimit-limit"] == "1200"
    assert int(r.headers["x-ratelimit-remaining"]) == 1199
    assert 1 <= int(r.headers["x-ratelimit-reset"]) <= 300


@pytest.mark.parametrize("path", ["/client/v4/nope", "/client/v4/zones/", "/zones",
                                  "/client/v4//zones", "/client/v4/zones/%s/unknown"])
def test_unknown_route_is_7000(cfsim, zone, path):
    r = cfsim.http("GET", path.replace("%s", zone), headers=cfsim.auth_headers())
    assert_failure(r, 400, 7000)
    assert error(r)["message"] == "No route for that URI"


@pytest.mark.parametrize("zid", ["example.com", "ABCDEF0123456789ABCDEF0123456789", "1234"])
def test_bad_zone_id_is_7003(cfsim, zone, zid):
    r = cfsim.get(f"/zones/{zid}/dns_records")
    assert_failure(r, 400, 7003)
    assert error(r)["message"] == (f"Could not route to /client/v4/zones/{zid}/dns_records, "
                                   "perhaps your object identifier is invalid?")


def test_unknown_but_wellformed_zone_id_is_7003(cfsim, zone):
    assert_failure(cfsim.get("/zones/" + "0" * 32 + "/dnssec"), 400, 7003)


def test_bad_record_id_is_7003_and_unknown_is_81044(cfsim, zone):
    assert_failure(cfsim.get(f"/zones/{zone}/dns_records/xyz"), 400, 7003)
    missing = "f" * 32
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        body = None if method in ("GET", "DELETE") else {"type": "TXT", "name": "a",
                                                         "content": "x"}
        r = cfsim.api(method, f"/zones/{zone}/dns_records/{missing}", body)
        assert_failure(r, 404, 81044)
        assert error(r)["message"] == "Record does not exist."


def test_method_not_allowed(cfsim, zone):
    assert_failure(cfsim.delete(f"/zones/{zone}/dns_settings"), 405, 7001)
    assert_failure(cfsim.post("/zones", {"name": "x.org"}), 405, 7001)


@pytest.mark.parametrize("raw", [b"", b"{not json", b"[1,2]", b"\xff\xfe", b'"text"'])
def test_unparsable_body_is_9207(cfsim, zone, raw):
    r = cfsim.http("POST", f"/client/v4/zones/{zone}/dns_records", raw,
                   {**cfsim.auth_headers(), "Content-Type": "application/json"})
    assert_failure(r, 400, 9207)


# --- authentication ---------------------------------------------------------------

def test_missing_credentials_is_9106(cfsim, zone):
    r = cfsim.get(f"/zones/{zone}", auth=None)
    assert_failure(r, 400, 9106)


@pytest.mark.parametrize("value", ["Basic abc", "Bearer", "Bearer ", "Bearer a b",
                                   "cfsim-test-token", "Token cfsim-test-token"])
def test_malformed_authorization_is_6003_6111(cfsim, zone, value):
    r = cfsim.get(f"/zones/{zone}", auth=None, headers={"Authorization": value})
    assert_failure(r, 400, 6003)
    assert error(r)["error_chain"] == [{"code": 6111,
                                        "message": "Invalid format for Authorization header"}]


def test_legacy_email_key(cfsim, zone):
    assert cfsim.get(f"/zones/{zone}", auth="email_key").status == 200
    r = cfsim.get(f"/zones/{zone}", auth=None,
                  headers={"X-Auth-Email": "not-an-email", "X-Auth-Key": "short"})
    assert_failure(r, 400, 6003)
    assert [c["code"] for c in error(r)["error_chain"]] == [6102, 6103]
    r = cfsim.get(f"/zones/{zone}", auth=None, headers={"X-Auth-Key": cfsim.api_key})
    assert [c["code"] for c in error(r)["error_chain"]] == [6102]
    r = cfsim.get(f"/zones/{zone}", auth=None,
                  headers={"X-Auth-Email": cfsim.email, "X-Auth-Key": "f" * 37})
    assert_failure(r, 403, 9103)


def test_token_formats_are_never_validated(cfsim, zone):
    for token in ("cfut_" + "A" * 40, "x", "a" * 300, "cfat_-_.~+/=", "ÿ".encode().hex()):
        cfsim.add_token(token)
        assert cfsim.get(f"/zones/{zone}", token=token).status == 200, token
        assert cfsim.get("/user/tokens/verify", token=token).status == 200


def test_verify_token(cfsim):
    r = cfsim.get("/user/tokens/verify")
    assert r.status == 200
    assert ID_RE.match(r.result["id"]) and r.result["status"] == "active"
    assert r.json["messages"] == [{"code": 10000, "message": "This API Token is valid and active"}]
    r = cfsim.get("/user/tokens/verify", token="unknown-token")
    assert_failure(r, 401, 1000)
    assert error(r)["message"] == "Invalid API Token"


def test_unknown_and_revoked_tokens(cfsim, zone):
    assert_failure(cfsim.get(f"/zones/{zone}", token="unknown"), 403, 9109)
    cfsim.add_token("temp")
    assert cfsim.get(f"/zones/{zone}", token="temp").status == 200
    cfsim.revoke_token("temp")
    assert_failure(cfsim.get(f"/zones/{zone}", token="temp"), 403, 9109)
    assert error(cfsim.get(f"/zones/{zone}", token="temp"))["message"] == "Invalid access token"
    assert_failure(cfsim.get("/user/tokens/verify", token="temp"), 401, 1000)


def test_disabled_and_expired_tokens(cfsim, zone):
    cfsim.add_token("dis", status="disabled")
    r = cfsim.get("/user/tokens/verify", token="dis")
    assert r.status == 200 and r.result["status"] == "disabled" and r.json["messages"] == []
    assert_failure(cfsim.get(f"/zones/{zone}", token="dis"), 403, 9109)
    cfsim.add_token("old", expires_on="2020-01-01T00:00:00Z")
    r = cfsim.get("/user/tokens/verify", token="old")
    assert r.result["status"] == "expired" and r.result["expires_on"] == "2020-01-01T00:00:00Z"
    assert_failure(cfsim.get(f"/zones/{zone}", token="old"), 403, 9109)


def test_permissions(cfsim, zone):
    cfsim.add_token("ro", permissions=["dns_read"])
    cfsim.add_token("dns", permissions=["dns_write"])
    assert cfsim.get(f"/zones/{zone}/dns_records", token="ro").status == 200
    assert cfsim.get(f"/zones/{zone}/dnssec", token="ro").status == 200
    r = cfsim.post(f"/zones/{zone}/dns_records", dnskey_body(), token="ro")
    assert_failure(r, 403, 10000)
    assert error(r)["message"] == "Authentication error"
    assert_failure(cfsim.patch(f"/zones/{zone}/dnssec", {"status": "active"}, token="ro"),
                   403, 10000)
    assert cfsim.post(f"/zones/{zone}/dns_records", dnskey_body(), token="dns").status == 200
    assert cfsim.get(f"/zones/{zone}/dns_settings", token="dns").status == 200
    assert_failure(cfsim.patch(f"/zones/{zone}/dns_settings", {"multi_provider": True},
                               token="dns"), 403, 10000)
    cfsim.update_token("dns", permissions=["dns_write", "dns_settings_write"])
    assert cfsim.patch(f"/zones/{zone}/dns_settings", {"multi_provider": True},
                       token="dns").status == 200
    cfsim.set_config(perm_denied_status=401)
    assert_failure(cfsim.get(f"/zones/{zone}/dns_records", token="nothing-yet"), 403, 9109)
    cfsim.add_token("none", permissions=[])
    assert_failure(cfsim.get(f"/zones/{zone}/dns_records", token="none"), 401, 10000)


def test_zone_scoped_token(cfsim, zone):
    other = cfsim.create_zone("example.org")["id"]
    cfsim.add_token("scoped", zones=["example.org"])
    names = [z["name"] for z in cfsim.get("/zones", token="scoped").result]
    assert names == ["example.org"]
    assert cfsim.get(f"/zones/{other}/dns_records", token="scoped").status == 200
    assert_failure(cfsim.get(f"/zones/{zone}/dns_records", token="scoped"), 400, 7003)


# --- zones ---------------------------------------------------------------------------

def test_zone_list_filters_and_pages(cfsim):
    for i in range(7):
        cfsim.create_zone(f"z{i}.example", status="pending" if i == 3 else "active")
    r = cfsim.get("/zones", query={"name": "z3.example"})
    assert [z["name"] for z in r.result] == ["z3.example"]
    assert r.json["result_info"] == {"page": 1, "per_page": 20, "count": 1, "total_count": 1,
                                     "total_pages": 1}
    assert [z["name"] for z in cfsim.get("/zones", query={"status": "pending"}).result] == \
        ["z3.example"]
    r = cfsim.get("/zones", query={"name": "z1.example", "status": "pending", "match": "any"})
    assert sorted(z["name"] for z in r.result) == ["z1.example", "z3.example"]
    r = cfsim.get("/zones", query={"name": "starts_with:z6"})
    assert [z["name"] for z in r.result] == ["z6.example"]
    # per_page below Cloudflare's minimum of 5 is raised to 5.
    r = cfsim.get("/zones", query={"per_page": 2, "page": 2, "order": "name",
                                   "direction": "desc"})
    assert r.json["result_info"] == {"page": 2, "per_page": 5, "count": 2, "total_count": 7,
                                     "total_pages": 2}
    assert [z["name"] for z in r.result] == ["z1.example", "z0.example"]
    r = cfsim.get("/zones", query={"per_page": 5, "page": 9})
    assert r.status == 200 and r.result == [] and r.json["result_info"]["count"] == 0
    assert cfsim.get("/zones", query={"name": "missing.example"}).result == []
    assert_failure(cfsim.get("/zones", query={"order": "bogus"}), 400, 9020)


def test_zone_name_index_follows_create_and_delete(cfsim):
    zid = cfsim.create_zone("Index.Example")["id"]
    assert [z["id"] for z in cfsim.get("/zones", query={"name": "INDEX.example"}).result] \
        == [zid]
    assert [z["id"] for z in cfsim.get("/zones", query={"name": "equal:index.example"})
            .result] == [zid]
    # An exact name still has to pass the other filters.
    assert cfsim.get("/zones", query={"name": "index.example", "status": "pending"}).result \
        == []
    cfsim.admin("DELETE", f"/zones/{zid}")
    assert cfsim.get("/zones", query={"name": "index.example"}).result == []
    assert cfsim.create_zone("index.example")["id"] != zid


def test_admin_zone_list_and_served_pages(cfsim):
    ids = [cfsim.create_zone(f"p{i}.example")["id"] for i in range(5)]
    zones, info = cfsim.list_zones()
    assert [z["id"] for z in zones] == ids and info["total_count"] == 5
    zones, info = cfsim.list_zones(page=2, per_page=2)
    assert [z["id"] for z in zones] == ids[2:4]
    assert info == {"page": 2, "per_page": 2, "total_count": 5, "total_pages": 3}
    assert cfsim.list_zones(page=4, per_page=2)[0] == []
    cfsim.set_dnssec(ids[4], status="active")
    served, info = cfsim.served_all(page=3, per_page=2)
    assert [z["name"] for z in served] == ["p4.example"] and info["total_pages"] == 3
    assert served[0]["dnssec_status"] == "active"
    assert {k: v for k, v in served[0].items() if k not in ("id", "name")} == \
        cfsim.served(ids[4])
    for bad in ({"page": 0}, {"per_page": 0}, {"page": "x"}):
        with pytest.raises(CfsimAdminError) as exc:
            cfsim.admin("GET", "/served", query=bad)
        assert exc.value.status == 400


def test_request_counters_per_zone(cfsim):
    zid = cfsim.create_zone("count.example")["id"]
    cfsim.create_zone("other.example")
    cfsim.set_rate_limit(4, 60)     # per credential: the token's 5th request is refused
    cfsim.get("/zones", query={"name": "count.example"})
    cfsim.get(f"/zones/{zid}/dnssec")
    cfsim.post(f"/zones/{zid}/dns_records", {"type": "A", "name": "www", "content": "192.0.2.1"})
    cfsim.get("/user/tokens/verify")
    cfsim.get(f"/zones/{zid}/dns_records", token="unknown")        # 403
    cfsim.get(f"/zones/{zid}/dnssec")
    c = cfsim.counters()
    assert c["zones"]["count.example"] == {"requests": 5, "reads": 4, "writes": 1,
                                           "rate_limited": 1, "failed": 1}
    assert c["zones"][""] == {"requests": 1, "reads": 1, "writes": 0, "rate_limited": 0,
                              "failed": 0}
    assert "other.example" not in c["zones"]
    assert c["total"]["requests"] == 6 == len(cfsim.log())
    cfsim.clear_counters()
    assert cfsim.counters()["total"]["requests"] == 0


# --- keys and DNSSEC -------------------------------------------------------------------

def _dnspython_key(text):
    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, text)


def test_keys_are_real_and_ds_is_correct(cfsim, zone):
    keys = cfsim.keys(zone)
    ksk = keys["ksk"]
    rdata = _dnspython_key(f"257 3 13 {ksk['public_key']}")
    assert dns.dnssec.key_id(rdata) == ksk["key_tag"]
    assert len(base64.b64decode(ksk["public_key"])) == 64
    ds = dns.dnssec.make_ds("example.com.", rdata, "SHA256")
    sec = cfsim.get(f"/zones/{zone}/dnssec").result
    assert sec["key_tag"] == ksk["key_tag"] == ds.key_tag
    assert sec["digest"] == ds.digest.hex().upper()
    assert sec["ds"] == f"example.com. 3600 IN DS {ds.key_tag} 13 2 {ds.digest.hex().upper()}"
    assert sec["public_key"] == ksk["public_key"]
    assert (sec["algorithm"], sec["digest_type"], sec["digest_algorithm"], sec["flags"],
            sec["key_type"]) == ("13", "2", "SHA256", 257, "ECDSAP256SHA256")
    # The PEM private key matches the public key and can sign for a second signer.
    zsk = keys["zsks"][0]
    priv = serialization.load_pem_private_key(zsk["private_key_pem"].encode(), None)
    dnskey = _dnspython_key(f"256 3 13 {zsk['public_key']}")
    origin = dns.name.from_text("example.com.")
    rrset = dns.rrset.from_text("www.example.com.", 300, "IN", "A", "192.0.2.1")
    sig = dns.dnssec.sign(rrset, priv, origin, dnskey, lifetime=3600)
    assert sig.key_tag == zsk["key_tag"]
    sigset = dns.rrset.from_rdata("www.example.com.", 300, sig)
    keyset = dns.rrset.from_rdata(origin, 3600, dnskey)
    dns.dnssec.validate(rrset, sigset, {origin: keyset})
    assert zsk["bind_private"].startswith("Private-key-format: v1.3\nAlgorithm: 13")
    assert base64.b64decode(zsk["private_key_b64"]) == \
        priv.private_numbers().private_value.to_bytes(32, "big")


def test_each_zone_has_its_own_keys(cfsim, zone):
    other = cfsim.create_zone("example.org")["id"]
    assert cfsim.keys(zone)["ksk"]["public_key"] != cfsim.keys(other)["ksk"]["public_key"]


def test_dnssec_lifecycle(cfsim):
    zid = cfsim.create_zone("example.net")["id"]
    sec = cfsim.get(f"/zones/{zid}/dnssec").result
    assert sec["status"] == "disabled"
    assert all(sec[f] is None for f in ("ds", "digest", "key_tag", "public_key", "flags"))
    assert cfsim.get(f"/zones/{zid}/dnssec/zsk").result == []
    r = cfsim.patch(f"/zones/{zid}/dnssec", {"status": "active"})
    assert r.result["status"] == "pending" and r.result["key_tag"] is not None
    assert RFC3339_RE.match(r.result["modified_on"])
    assert cfsim.get(f"/zones/{zid}/dnssec").result["status"] == "pending"
    cfsim.set_dnssec(zid, status="active")
    assert cfsim.get(f"/zones/{zid}/dnssec").result["status"] == "active"
    r = cfsim.patch(f"/zones/{zid}/dnssec", {"dnssec_multi_signer": True})
    assert r.result["dnssec_multi_signer"] is True and r.result["status"] == "active"
    assert_failure(cfsim.delete(f"/zones/{zid}/dnssec"), 400, 1012)
    assert cfsim.patch(f"/zones/{zid}/dnssec", {"status": "disabled"}).result["status"] == \
        "pending-disabled"
    assert_failure(cfsim.delete(f"/zones/{zid}/dnssec"), 400, 1012)
    old_ksk = cfsim.keys(zid)["ksk"]["public_key"]
    cfsim.set_dnssec(zid, status="disabled")
    r = cfsim.delete(f"/zones/{zid}/dnssec")
    assert r.status == 200 and r.result == ""
    assert cfsim.keys(zid)["ksk"]["public_key"] != old_ksk
    assert cfsim.get(f"/zones/{zid}/dnssec").result["dnssec_multi_signer"] is False


@pytest.mark.parametrize("body", [{"status": "on"}, {"dnssec_multi_signer": "true"},
                                  {"bogus": 1}, {"status": None}])
def test_dnssec_patch_validation(cfsim, zone, body):
    assert_failure(cfsim.patch(f"/zones/{zone}/dnssec", body), 400, 1007)


def test_zsk_list_shape_matches_example(cfsim, zone):
    example_file = REFERENCE_DIR / "cloudflare-zsk-list-example.json"
    example = json.loads(example_file.read_text()) if example_file.exists() else None
    r = cfsim.get(f"/zones/{zone}/dnssec/zsk")
    assert r.status == 200 and "result_info" not in r.json
    (entry,) = r.result
    zsk = cfsim.keys(zone)["zsks"][0]
    assert entry["DNSKEY"]["PublicKey"] == zsk["public_key"]
    assert entry["SigningKey"]["pubkey"] == f"256 3 13 {zsk['public_key']}"
    assert entry["Tag"] == "active"
    assert entry["DNSKEY"]["Hdr"] == {"Class": 1, "Name": "example.com.", "Rdlength": 0,
                                      "Rrtype": 48, "Ttl": 3600}
    # The opaque privkey blob is not the real private key.
    assert entry["SigningKey"]["privkey"] not in json.dumps(zsk)
    if example:
        ref = example["result"][0]

        def shape(d):
            return {k: shape(v) if isinstance(v, dict) else type(v).__name__
                    for k, v in d.items()}
        assert shape(entry) == shape(ref)


def test_zsk_rollover_walk(cfsim, zone):
    def listed():
        return [(e["Tag"], e["DNSKEY"]["PublicKey"])
                for e in cfsim.get(f"/zones/{zone}/dnssec/zsk").result]

    (old_tag, old_key), = listed()
    assert old_tag == "active"
    assert cfsim.zsk_rollover(zone)["step"] == "publish"
    state = listed()
    assert state[0] == ("active", old_key) and state[1][0] == "publish"
    new_key = state[1][1]
    served = cfsim.served(zone)["dnskey"]
    assert any(new_key in s for s in served) and any(old_key in s for s in served)
    assert cfsim.zsk_rollover(zone)["step"] == "activate"
    assert listed() == [("retired", old_key), ("active", new_key)]
    assert cfsim.zsk_rollover(zone)["step"] == "remove"
    assert listed() == [("active", new_key)]
    assert not any(old_key in s for s in cfsim.served(zone)["dnskey"])
    cfsim.set_config(show_removed_zsk=True)
    assert listed() == [("removed", old_key), ("active", new_key)]
    # An unannounced rollover: the new key is active at once.
    cfsim.set_config(show_removed_zsk=False)
    cfsim.zsk_rollover(zone, "immediate")
    tags = [t for t, _ in listed()]
    assert tags == ["retired", "active"]
    with pytest.raises(CfsimAdminError):
        cfsim.zsk_rollover(zone, "activate")          # nothing published
    tag = cfsim.keys(zone)["zsks"][-1]["key_tag"]
    cfsim.set_zsk_tag(zone, tag, "revoked")
    assert [t for t, _ in listed()][-1] == "revoked"


def test_raw_zsk_entry_is_listed_exactly_as_given(cfsim, zone):
    """A faulty listing for fault tests: the fields as given, no key behind them."""
    tag = cfsim.add_raw_zsk(zone, tag="active", algorithm=8, public_key="AwEAAQ==")
    assert tag == dns.dnssec.key_id(dns.rdata.from_text("IN", "DNSKEY", "256 3 8 AwEAAQ=="))
    entry = cfsim.get(f"/zones/{zone}/dnssec/zsk").result[-1]
    assert entry["Tag"] == "active"
    assert (entry["DNSKEY"]["Algorithm"], entry["DNSKEY"]["Flags"],
            entry["DNSKEY"]["Protocol"], entry["DNSKEY"]["PublicKey"]) == (8, 256, 3, "AwEAAQ==")
    assert entry["SigningKey"]["pubkey"] == "256 3 8 AwEAAQ=="
    assert any(s.endswith("DNSKEY 256 3 8 AwEAAQ==") for s in cfsim.served(zone)["dnskey"])
    raw = cfsim.keys(zone)["zsks"][-1]
    assert raw["raw"] is True and "private_key_pem" not in raw
    bad = cfsim.add_raw_zsk(zone, public_key="not base64!")
    assert cfsim.get(f"/zones/{zone}/dnssec/zsk").result[-1]["DNSKEY"]["PublicKey"] == \
        "not base64!"
    for t in (tag, bad):
        cfsim.set_zsk_tag(zone, t, "removed")
    assert len(cfsim.get(f"/zones/{zone}/dnssec/zsk").result) == 1
    for wrong in ({"algorithm": 256}, {"flags": "256"}, {"public_key": 5}, {"bogus": 1},
                  {"tag": "maybe"}):
        with pytest.raises(CfsimAdminError):
            cfsim.add_raw_zsk(zone, **wrong)


# --- DNS settings -------------------------------------------------------------------------

def test_dns_settings(cfsim, zone):
    r = cfsim.get(f"/zones/{zone}/dns_settings")
    assert r.result["multi_provider"] is False
    assert r.result["nameservers"] == {"type": "cloudflare.standard"}
    r = cfsim.post(f"/zones/{zone}/dns_records", {"type": "NS", "name": "example.com",
                                                  "content": "ns1.example.net.", "ttl": 86400})
    assert r.status == 200 and r.result["content"] == "ns1.example.net"
    # Accepted but not served until multi_provider is on.
    assert cfsim.served(zone)["ns"] == ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"]
    r = cfsim.patch(f"/zones/{zone}/dns_settings", {"multi_provider": True})
    assert r.status == 200 and r.result["multi_provider"] is True
    assert "ns1.example.net" in cfsim.served(zone)["ns"]
    assert cfsim.get(f"/zones/{zone}/dns_settings").result["ns_ttl"] == 86400
    for bad in ({"multi_provider": "yes"}, {"ns_ttl": 10}, {"use_apex_ns": True},
                {"soa": {"ttl": 5}}, {"nameservers": {"type": "custom"}}):
        assert_failure(cfsim.patch(f"/zones/{zone}/dns_settings", bad), 400, 1007)


# --- DNS records ----------------------------------------------------------------------------

def test_dnskey_rejected_without_multi_signer(cfsim):
    zid = cfsim.create_zone("example.com", dnssec={"status": "active"})["id"]
    r = cfsim.post(f"/zones/{zid}/dns_records", dnskey_body())
    assert_failure(r, 400, 1004)
    assert error(r)["message"] == "DNS Validation Error"
    assert error(r)["error_chain"][0]["code"] == 9030
    cfsim.set_config(validation_error_style="direct")
    assert_failure(cfsim.post(f"/zones/{zid}/dns_records", dnskey_body()), 400, 9030)
    assert cfsim.records(zid) == []


def test_dnskey_record_shape(cfsim, zone):
    r = cfsim.post(f"/zones/{zone}/dns_records", {**dnskey_body(), "name": "example.com."})
    assert r.status == 200
    rec = r.result
    assert ID_RE.match(rec["id"])
    assert rec["name"] == "example.com" and rec["type"] == "DNSKEY"
    assert rec["data"] == {"flags": 256, "protocol": 3, "algorithm": 13, "public_key": PUB}
    assert rec["content"] == f"256 3 13 {PUB}"
    assert rec["ttl"] == 3600 and rec["proxied"] is False and rec["proxiable"] is False
    assert rec["settings"] == {} and rec["meta"] == {} and rec["tags"] == []
    assert rec["comment"] is None
    assert RFC3339_RE.match(rec["created_on"]) and RFC3339_RE.match(rec["modified_on"])
    assert cfsim.get(f"/zones/{zone}/dns_records/{rec['id']}").result == rec
    served = cfsim.served(zone)["dnskey"]
    assert f"example.com. 3600 IN DNSKEY 256 3 13 {PUB}" in served


@pytest.mark.parametrize("data,code", [
    ({"flags": 256, "protocol": 3, "algorithm": 13}, 9101),
    ({"flags": 256, "protocol": 3, "public_key": PUB}, 9101),
    ({"flags": "256", "protocol": 3, "algorithm": 13, "public_key": PUB}, 9033),
    ({"flags": 256, "protocol": 2, "algorithm": 13, "public_key": PUB}, 9033),
    ({"flags": 256, "protocol": 3, "algorithm": 13, "public_key": "not base64!"}, 9033),
    ({"flags": 70000, "protocol": 3, "algorithm": 13, "public_key": PUB}, 9033),
])
def test_dnskey_data_validation(cfsim, zone, data, code):
    r = cfsim.post(f"/zones/{zone}/dns_records", {"type": "DNSKEY", "name": "example.com",
                                                  "data": data})
    assert_failure(r, 400, 1004)
    assert error(r)["error_chain"][0]["code"] == code


def test_dnskey_only_at_apex_and_content_is_read_only(cfsim, zone):
    r = cfsim.post(f"/zones/{zone}/dns_records", {**dnskey_body(), "name": "sub"})
    assert error(r)["error_chain"][0]["code"] == 9031
    r = cfsim.post(f"/zones/{zone}/dns_records", {"type": "DNSKEY", "name": "example.com",
                                                  "content": f"256 3 13 {PUB}"})
    assert_failure(r, 400, 1004)
    assert error(r)["error_chain"][0]["code"] == 9101


def test_identical_record_81058(cfsim, zone):
    assert cfsim.post(f"/zones/{zone}/dns_records", dnskey_body()).status == 200
    r = cfsim.post(f"/zones/{zone}/dns_records", dnskey_body(ttl=600, comment="other"))
    assert_failure(r, 400, 81058)
    assert error(r)["message"] == "An identical record already exists."
    second = cfsim.post(f"/zones/{zone}/dns_records", dnskey_body(other_pub(cfsim, zone)))
    assert second.status == 200
    # Turning the second into a copy of the first is refused too.
    r = cfsim.put(f"/zones/{zone}/dns_records/{second.result['id']}", dnskey_body())
    assert_failure(r, 400, 81058)


def test_cloudflare_ns_refused(cfsim, zone):
    for target in ("ada.ns.cloudflare.com", "KIM.NS.CLOUDFLARE.COM."):
        r = cfsim.post(f"/zones/{zone}/dns_records", {"type": "NS", "name": "example.com",
                                                      "content": target})
        assert_failure(r, 400, 1004)
        assert error(r)["error_chain"][0]["code"] == 9032


@pytest.mark.parametrize("ttl,ok", [(1, True), (60, True), (86400, True), (0, False),
                                    (30, False), (59, False), (86401, False), ("3600", False),
                                    (True, False), (3600.5, False)])
def test_ttl_rules(cfsim, zone, ttl, ok):
    r = cfsim.post(f"/zones/{zone}/dns_records", {"type": "TXT", "name": "t",
                                                  "content": "v", "ttl": ttl})
    if ok:
        assert r.status == 200 and r.result["ttl"] == ttl
    else:
        assert_failure(r, 400, 1004)
        assert error(r)["error_chain"][0]["code"] == 9021


def test_comment_and_tags_rules(cfsim, zone):
    base = {"type": "TXT", "name": "c", "content": "v"}
    for comment in ("two\nlines", "cr\r", "x" * 101, 5):
        r = cfsim.post(f"/zones/{zone}/dns_records", {**base, "comment": comment})
        assert_failure(r, 400, 1004)
        assert error(r)["error_chain"][0]["code"] == 9022
    r = cfsim.post(f"/zones/{zone}/dns_records", {**base, "tags": ["owner:me"]})
    assert error(r)["error_chain"][0] == {
        "code": 9300, "message": "DNS record has 1 tags, exceeding the quota of 0."}
    cfsim.set_config(tags_quota=5)
    r = cfsim.post(f"/zones/{zone}/dns_records", {**base, "tags": ["owner:me"],
                                                  "comment": "x" * 100})
    assert r.status == 200 and r.result["tags"] == ["owner:me"]
    r = cfsim.post(f"/zones/{zone}/dns_records", {**base, "content": "w", "tags": ["b@d:x"]})
    assert error(r)["error_chain"][0]["code"] == 9023


def test_invalid_names_are_9000(cfsim, zone):
    for name in ("bad..name", "-" * 64 + ".x", "sp ace", 17, "a" * 250):
        r = cfsim.post(f"/zones/{zone}/dns_records", {"type": "TXT", "name": name,
                                                      "content": "v"})
        assert_failure(r, 400, 9000)


def test_names_are_normalised(cfsim, zone):
    for given, stored in (("@", "example.com"), ("WWW", "www.example.com"),
                          ("a.example.com.", "a.example.com"), ("b.other.org", "b.other.org.example.com")):
        r = cfsim.post(f"/zones/{zone}/dns_records", {"type": "TXT", "name": given,
                                                      "content": given})
        assert r.status == 200 and r.result["name"] == stored


def test_put_replaces_patch_merges_delete_returns_id(cfsim, zone):
    rec = cfsim.post(f"/zones/{zone}/dns_records", dnskey_body(comment="ours")).result
    time.sleep(0.002)   # modified_on has microsecond resolution
    r = cfsim.patch(f"/zones/{zone}/dns_records/{rec['id']}", {"ttl": 600})
    assert r.result["ttl"] == 600 and r.result["comment"] == "ours"
    assert r.result["data"] == rec["data"] and r.result["created_on"] == rec["created_on"]
    assert r.result["modified_on"] > rec["modified_on"]
    r = cfsim.put(f"/zones/{zone}/dns_records/{rec['id']}", dnskey_body())
    assert r.result["comment"] is None and r.result["ttl"] == 3600
    assert r.result["id"] == rec["id"]
    r = cfsim.patch(f"/zones/{zone}/dns_records/{rec['id']}",
                    {"data": {"flags": 257, "protocol": 3, "algorithm": 13, "public_key": PUB}})
    assert r.result["content"] == f"257 3 13 {PUB}"
    r = cfsim.delete(f"/zones/{zone}/dns_records/{rec['id']}")
    assert r.status == 200 and r.result == {"id": rec["id"]}
    assert_failure(cfsim.delete(f"/zones/{zone}/dns_records/{rec['id']}"), 404, 81044)


def _seed(cfsim, zone):
    cfsim.set_config(tags_quota=5)
    recs = [
        {"type": "TXT", "name": "a", "content": "alpha", "comment": "knot-multisigner: zsk",
         "ttl": 300},
        {"type": "TXT", "name": "b", "content": "beta", "tags": ["team:dns"], "ttl": 60},
        {"type": "NS", "name": "example.com", "content": "ns1.example.net", "ttl": 86400},
        {"type": "A", "name": "www", "content": "192.0.2.1", "comment": "Web"},
        dnskey_body(comment="knot-multisigner: other"),
    ]
    return [cfsim.post(f"/zones/{zone}/dns_records", r).result for r in recs]


def _names(resp):
    return [(r["type"], r["name"]) for r in resp.result]


@pytest.mark.parametrize("query,expected", [
    ({"type": "TXT"}, [("TXT", "a.example.com"), ("TXT", "b.example.com")]),
    ({"type": "dnskey"}, [("DNSKEY", "example.com")]),
    ({"name": "A.Example.com."}, [("TXT", "a.example.com")]),
    ({"name.exact": "www.example.com"}, [("A", "www.example.com")]),
    ({"name.startswith": "ww", "type": "A"}, [("A", "www.example.com")]),
    ({"name.endswith": "b.example.com"}, [("TXT", "b.example.com")]),
    ({"name.contains": "xampl", "type": "NS"}, [("NS", "example.com")]),
    ({"content": "BETA"}, [("TXT", "b.example.com")]),
    ({"content.startswith": "256 3 13"}, [("DNSKEY", "example.com")]),
    ({"comment": "web"}, [("A", "www.example.com")]),
    ({"comment.startswith": "knot-multisigner:"},
     [("DNSKEY", "example.com"), ("TXT", "a.example.com")]),
    ({"comment.contains": "OTHER"}, [("DNSKEY", "example.com")]),
    ({"comment.endswith": "zsk"}, [("TXT", "a.example.com")]),
    ({"comment.present": ""}, [("A", "www.example.com"), ("DNSKEY", "example.com"),
                               ("TXT", "a.example.com")]),
    ({"comment.absent": "", "type": "TXT"}, [("TXT", "b.example.com")]),
    ({"tag": "team"}, [("TXT", "b.example.com")]),
    ({"tag": "team:dns"}, [("TXT", "b.example.com")]),
    ({"tag.absent": "team", "type": "TXT"}, [("TXT", "a.example.com")]),
    ({"type": "NS", "content": "alpha", "match": "any"},
     [("NS", "example.com"), ("TXT", "a.example.com")]),
    ({"type": "NS", "content": "alpha"}, []),
    ({"order": "ttl", "direction": "desc", "type": "TXT"},
     [("TXT", "a.example.com"), ("TXT", "b.example.com")]),
    ({"order": "name", "type": "TXT", "direction": "desc"},
     [("TXT", "b.example.com"), ("TXT", "a.example.com")]),
])
def test_record_filters(cfsim, zone, query, expected):
    _seed(cfsim, zone)
    r = cfsim.get(f"/zones/{zone}/dns_records", query=query)
    assert r.status == 200, r
    assert _names(r) == expected


@pytest.mark.parametrize("query", [{"order": "id"}, {"direction": "up"}, {"match": "some"},
                                   {"page": "x"}, {"page": "0"}, {"name.like": "a"}])
def test_bad_list_parameters(cfsim, zone, query):
    assert_failure(cfsim.get(f"/zones/{zone}/dns_records", query=query), 400, 9020)


def test_pagination(cfsim, zone):
    for i in range(7):
        cfsim.post(f"/zones/{zone}/dns_records", {"type": "TXT", "name": f"r{i}",
                                                  "content": f"v{i}"})
    r = cfsim.get(f"/zones/{zone}/dns_records")
    assert r.json["result_info"] == {"page": 1, "per_page": 100, "count": 7, "total_count": 7,
                                     "total_pages": 1}
    cfsim.set_page_size(3, maximum=3)
    seen = []
    for page in range(1, 4):
        r = cfsim.get(f"/zones/{zone}/dns_records", query={"page": page, "per_page": 100})
        info = r.json["result_info"]
        assert info["per_page"] == 3 and info["total_count"] == 7 and info["total_pages"] == 3
        assert info["count"] == len(r.result) == (3 if page < 3 else 1)
        seen += [x["content"] for x in r.result]
    assert sorted(seen) == [f"v{i}" for i in range(7)]
    r = cfsim.get(f"/zones/{zone}/dns_records", query={"page": 4})
    assert r.status == 200 and r.result == []
    assert r.json["result_info"]["count"] == 0 and r.json["result_info"]["page"] == 4


def test_records_change_between_pages(cfsim, zone):
    cfsim.set_page_size(2, maximum=2)
    for i in range(4):
        cfsim.post(f"/zones/{zone}/dns_records", {"type": "TXT", "name": f"r{i}",
                                                  "content": f"v{i}"})
    first = cfsim.get(f"/zones/{zone}/dns_records").result
    cfsim.add_trigger({"op": "delete_record", "zone": zone, "id": first[0]["id"]},
                      method="GET", path=r"/dns_records$")
    page1 = cfsim.get(f"/zones/{zone}/dns_records", query={"page": 1})
    page2 = cfsim.get(f"/zones/{zone}/dns_records", query={"page": 2})
    # The deletion between the pages shifted r2 onto page 1: the client misses it.
    assert [r["content"] for r in page1.result] == ["v0", "v1"]
    assert [r["content"] for r in page2.result] == ["v3"]
    assert page2.json["result_info"]["total_count"] == 3
    cfsim.add_trigger({"op": "add_record", "zone": zone,
                       "record": {"type": "TXT", "name": "late", "content": "late"}},
                      method="GET", path=r"/dns_records$")
    cfsim.get(f"/zones/{zone}/dns_records")
    assert any(r["content"] == "late" for r in cfsim.records(zone))


# --- batch ---------------------------------------------------------------------------------

def test_batch_order_and_result(cfsim, zone):
    a = cfsim.post(f"/zones/{zone}/dns_records", dnskey_body(comment="a")).result
    b = cfsim.post(f"/zones/{zone}/dns_records", {"type": "TXT", "name": "b",
                                                  "content": "b"}).result
    c = cfsim.post(f"/zones/{zone}/dns_records", {"type": "TXT", "name": "c",
                                                  "content": "c"}).result
    body = {
        "deletes": [{"id": a["id"]}],
        "patches": [{"id": b["id"], "comment": "patched"}],
        "puts": [{"id": c["id"], "type": "TXT", "name": "c", "content": "c2"}],
        # Identical to the deleted record: fine because deletes run first.
        "posts": [dnskey_body(comment="again")],
    }
    r = cfsim.post(f"/zones/{zone}/dns_records/batch", body)
    assert r.status == 200, r
    res = r.result
    assert [x["id"] for x in res["deletes"]] == [a["id"]]
    assert res["patches"][0]["comment"] == "patched"
    assert res["puts"][0]["content"] == "c2"
    assert res["posts"][0]["comment"] == "again" and res["posts"][0]["id"] != a["id"]
    contents = sorted((r["type"], r["content"], r["comment"]) for r in cfsim.records(zone))
    assert contents == [("DNSKEY", f"256 3 13 {PUB}", "again"), ("TXT", "b", "patched"),
                        ("TXT", "c2", None)]


def test_batch_is_all_or_nothing(cfsim, zone):
    a = cfsim.post(f"/zones/{zone}/dns_records", dnskey_body()).result
    before = cfsim.records(zone)
    body = {"deletes": [{"id": a["id"]}],
            "posts": [{"type": "TXT", "name": "ok", "content": "fine"},
                      {"type": "TXT", "name": "bad", "content": "x", "ttl": 5}]}
    r = cfsim.post(f"/zones/{zone}/dns_records/batch", body)
    assert_failure(r, 400, 1004)
    assert "posts[1]" in error(r)["message"]
    assert cfsim.records(zone) == before
    r = cfsim.post(f"/zones/{zone}/dns_records/batch",
                   {"patches": [{"id": "e" * 32, "ttl": 60}]})
    assert_failure(r, 404, 81044)
    r = cfsim.post(f"/zones/{zone}/dns_records/batch",
                   {"posts": [dnskey_body(comment="dup"), dnskey_body(comment="dup2")]})
    assert_failure(r, 400, 81058)
    assert cfsim.records(zone) == before
    assert_failure(cfsim.post(f"/zones/{zone}/dns_records/batch", {"posts": {}}), 400, 9207)


def test_batch_operation_limit(cfsim, zone):
    cfsim.set_config(batch_limit=3)
    posts = [{"type": "TXT", "name": f"n{i}", "content": "x"} for i in range(4)]
    assert_failure(cfsim.post(f"/zones/{zone}/dns_records/batch", {"posts": posts}), 400, 9034)
    assert cfsim.post(f"/zones/{zone}/dns_records/batch", {"posts": posts[:3]}).status == 200


def test_batch_dnskey_needs_multi_signer(cfsim):
    zid = cfsim.create_zone("example.com")["id"]
    r = cfsim.post(f"/zones/{zid}/dns_records/batch", {"posts": [dnskey_body()]})
    assert_failure(r, 400, 1004)


def test_concurrent_writers_see_one_state(cfsim, zone):
    """The state lock makes create-if-absent atomic: one winner, the rest 81058."""
    import threading
    results = []

    def post():
        results.append(cfsim.post(f"/zones/{zone}/dns_records", dnskey_body()).status)

    threads = [threading.Thread(target=post) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == [200] + [400] * 15
    assert len(cfsim.records(zone)) == 1


# --- rate limiting ----------------------------------------------------------------------------

def test_rate_limit_trips_blocks_and_recovers(cfsim, zone):
    cfsim.set_rate_limit(3, 0.6, block_seconds=0.6)
    remaining = [cfsim.get(f"/zones/{zone}").headers["x-ratelimit-remaining"]
                 for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    r = cfsim.get(f"/zones/{zone}")
    assert_failure(r, 429, 971)
    assert error(r)["message"].startswith("More than 3 requests per 0.6 seconds reached")
    assert r.headers["retry-after"] == "1"
    assert r.headers["x-ratelimit-limit"] == "3" and r.headers["x-ratelimit-remaining"] == "0"
    # Other credentials have their own bucket.
    assert cfsim.get(f"/zones/{zone}", auth="email_key").status == 200
    # Blocked calls are counted, so the bucket stays full while the client keeps calling.
    assert wait_until(lambda: cfsim.get(f"/zones/{zone}").status == 200, timeout=10,
                      step=0.25)
    entries = [e for e in cfsim.log() if e["rate_limited"]]
    assert entries and all(e["status"] == 429 for e in entries)


def test_rate_limit_default_message(cfsim, zone):
    cfsim.set_rate_limit(1, 300)
    cfsim.get(f"/zones/{zone}")
    r = cfsim.get(f"/zones/{zone}")
    assert error(r)["message"] == ("More than 1 requests per 300 seconds reached. "
                                   "Please wait and consider throttling your request speed")
    assert r.headers["retry-after"] == "300"
    cfsim.reset_rate_limit()
    assert cfsim.get(f"/zones/{zone}").status == 200


# --- faults ------------------------------------------------------------------------------------

def test_status_fault_for_next_request_only(cfsim, zone):
    cfsim.add_fault("status", status=503, code=10001, message="busy", count=1,
                    method="GET", path=r"/dns_records")
    assert cfsim.get(f"/zones/{zone}").status == 200            # path does not match
    r = cfsim.get(f"/zones/{zone}/dns_records")
    assert_failure(r, 503, 10001)
    assert cfsim.get(f"/zones/{zone}/dns_records").status == 200
    assert [e["fault"] for e in cfsim.log()] == [None, "status", None]


def test_fault_429_looks_like_rate_limit(cfsim, zone):
    cfsim.add_fault("status", status=429, count=1)
    r = cfsim.get(f"/zones/{zone}")
    assert_failure(r, 429, 971)
    assert r.headers["retry-after"] == "60"


def test_fault_duration_expires(cfsim, zone):
    cfsim.add_fault("status", status=500, duration=0.3)
    assert cfsim.get(f"/zones/{zone}").status == 500
    assert wait_until(lambda: cfsim.get(f"/zones/{zone}").status == 200)


def test_delay_fault(cfsim, zone):
    cfsim.add_fault("delay", delay=0.4, count=1)
    t0 = time.monotonic()
    assert cfsim.get(f"/zones/{zone}").status == 200
    assert time.monotonic() - t0 >= 0.4
    with pytest.raises(socket.timeout):
        cfsim.add_fault("delay", delay=2, count=1)
        cfsim.get(f"/zones/{zone}", timeout=0.3)


def test_requests_in_flight(cfsim, zone):
    """A held request is listed until it is answered; the log has it only then."""
    assert cfsim.in_flight() == []
    cfsim.add_fault("delay", delay=1.0, count=1)
    done = []
    t = threading.Thread(target=lambda: done.append(cfsim.get(f"/zones/{zone}").status))
    t.start()
    assert wait_until(lambda: cfsim.in_flight(), 5)
    held = cfsim.in_flight()
    assert [(e["method"], e["path"]) for e in held] == [("GET", f"/client/v4/zones/{zone}")]
    assert RFC3339_RE.match(held[0]["time"])
    assert cfsim.log() == []
    t.join(5)
    assert done == [200] and cfsim.in_flight() == [] and len(cfsim.log()) == 1


def test_fault_applied_but_answer_lost(cfsim, zone):
    cfsim.add_fault("status", status=502, apply=True, count=1, method="POST")
    r = cfsim.post(f"/zones/{zone}/dns_records", dnskey_body())
    assert r.status == 502
    assert len(cfsim.records(zone)) == 1        # it went through nevertheless
    assert_failure(cfsim.post(f"/zones/{zone}/dns_records", dnskey_body()), 400, 81058)


def test_body_faults(cfsim, zone):
    cfsim.add_fault("malformed_json", count=1)
    r = cfsim.get(f"/zones/{zone}")
    assert r.status == 200 and r.json is None and r.body.startswith(b"{")
    cfsim.add_fault("html", count=1)
    r = cfsim.get(f"/zones/{zone}")
    assert r.status == 502 and r.headers["Content-Type"] == "text/html"
    assert b"cloudflare" in r.body and r.json is None
    cfsim.add_fault("empty", count=1)
    r = cfsim.get(f"/zones/{zone}")
    assert r.status == 200 and r.body == b""
    cfsim.add_fault("wrong_types", count=1)
    r = cfsim.get(f"/zones/{zone}/dns_records")
    assert r.json["success"] == "true" and r.json["result_info"]["total_count"] == "0"
    cfsim.add_fault("oversized", size=2 * 1024 * 1024, count=1)
    r = cfsim.get(f"/zones/{zone}")
    assert int(r.headers["Content-Length"]) == 2 * 1024 * 1024 == len(r.body)
    assert json.loads(r.body)["success"] is True


def test_connection_faults(cfsim, zone):
    cfsim.add_fault("truncated", count=1)
    with pytest.raises(http.client.IncompleteRead):
        cfsim.get(f"/zones/{zone}")
    cfsim.add_fault("drop", count=1)
    with pytest.raises(http.client.RemoteDisconnected):
        cfsim.get(f"/zones/{zone}")
    cfsim.add_fault("reset", count=1)
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        cfsim.get(f"/zones/{zone}")
    assert cfsim.get(f"/zones/{zone}").status == 200
    faults = [e["fault"] for e in cfsim.log()]
    assert faults == ["truncated", "drop", "reset", None]


def test_clear_faults(cfsim, zone):
    cfsim.add_fault("status", status=500)
    assert cfsim.admin("GET", "/faults")["faults"][0]["kind"] == "status"
    cfsim.clear_faults()
    assert cfsim.get(f"/zones/{zone}").status == 200
    with pytest.raises(CfsimAdminError):
        cfsim.add_fault("explode")


# --- request log and admin --------------------------------------------------------------------

def test_request_log_never_holds_credentials(cfsim, zone):
    cfsim.add_token("secret-token-value-123")
    cfsim.get(f"/zones/{zone}/dns_records", query={"type": "DNSKEY"},
              token="secret-token-value-123")
    cfsim.get(f"/zones/{zone}", auth="email_key")
    cfsim.get(f"/zones/{zone}", auth=None)
    log = cfsim.log()
    assert [(e["method"], e["path"], e["status"], e["auth"]) for e in log] == [
        ("GET", f"/client/v4/zones/{zone}/dns_records", 200, "bearer"),
        ("GET", f"/client/v4/zones/{zone}", 200, "email_key"),
        ("GET", f"/client/v4/zones/{zone}", 400, "none"),
    ]
    assert log[0]["query"] == {"type": "DNSKEY"} and log[2]["error_codes"] == [9106]
    dumped = json.dumps(log)
    assert "secret-token-value-123" not in dumped and cfsim.api_key not in dumped
    assert cfsim.log(since=log[1]["seq"]) == log[2:]
    cfsim.clear_log()
    assert cfsim.log() == []


def test_admin_changes_behind_the_clients_back(cfsim):
    zid = cfsim.create_zone("example.com")["id"]
    rec = cfsim.add_record(zid, dnskey_body(), validate=False)
    assert cfsim.get(f"/zones/{zid}/dns_records").result[0]["id"] == rec["id"]
    cfsim.patch_record(zid, rec["id"], comment="changed")
    assert cfsim.get(f"/zones/{zid}/dns_records/{rec['id']}").result["comment"] == "changed"
    cfsim.delete_record(zid, rec["id"])
    assert cfsim.get(f"/zones/{zid}/dns_records").result == []
    with pytest.raises(CfsimAdminError) as exc:
        cfsim.admin("GET", "/nothing")
    assert exc.value.status == 404
    with pytest.raises(CfsimAdminError):
        cfsim.create_zone("example.com")
    cfsim.reset()
    assert cfsim.get("/zones").result == []


# --- HTTPS, CLI ----------------------------------------------------------------------------------

def test_https_with_throwaway_ca(cfsim_tls):
    assert cfsim_tls.base_url.startswith("https://127.0.0.1:")
    zid = cfsim_tls.create_zone("example.com")["id"]
    assert cfsim_tls.get(f"/zones/{zid}").status == 200
    # The certificate also names localhost.
    ctx = ssl.create_default_context(cafile=cfsim_tls.ca_file)
    conn = http.client.HTTPSConnection("localhost", cfsim_tls.port, context=ctx, timeout=5)
    conn.request("GET", "/client/v4/user/tokens/verify",
                  headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"})
    assert conn.getresponse().status == 200
    conn.close()
    # Without the CA the certificate is not trusted.
    conn = http.client.HTTPSConnection("127.0.0.1", cfsim_tls.port, timeout=5,
                                       context=ssl.create_default_context())
    with pytest.raises(ssl.SSLCertVerificationError):
        conn.request("GET", "/client/v4/user/tokens/verify")
    conn.close()
    # Plain HTTP to the TLS port gets nothing useful.
    with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
        c = http.client.HTTPConnection("127.0.0.1", cfsim_tls.port, timeout=5)
        c.request("GET", "/client/v4/zones")
        resp = c.getresponse()
        resp.read()
        if resp.status:
            raise http.client.HTTPException(f"unexpected status {resp.status}")


def test_subprocess_cli(tmp_path):
    proc = CfsimProcess(tls=True, tokens=["cli-token", "ro-token=dns_read"],
                        extra_args=["--zone", "example.org", "--rate-limit", "50",
                                    "--page-size", "2"], workdir=str(tmp_path))
    try:
        info = proc.info
        assert info["scheme"] == "https" and info["port"] > 0
        assert info["ca_file"] == str(tmp_path / "ca.pem")
        (z,) = info["zones"]
        h = proc.handle
        assert h.get(f"/zones/{z['id']}").result["name"] == "example.org"
        r = h.get(f"/zones/{z['id']}/dns_records")
        assert r.headers["x-ratelimit-limit"] == "50"
        assert r.json["result_info"]["per_page"] == 2
        assert_failure(h.patch(f"/zones/{z['id']}/dnssec", {"status": "active"},
                               token="ro-token"), 403, 10000)
    finally:
        assert proc.stop() == 0


def test_factory_ipv6_and_options(cfsim_factory):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        h = cfsim_factory(host="::1", options={"records_per_page": 7})
    except OSError:
        pytest.skip("::1 not available")
    assert h.base_url.startswith("http://[::1]:")
    zid = h.create_zone("example.com")["id"]
    assert h.get(f"/zones/{zid}/dns_records").json["result_info"]["per_page"] == 7
    with pytest.raises(ValueError):
        cfsim_factory(host="0.0.0.0")
