"""Validate the simulator's answers against Cloudflare's published OpenAPI schema.

The schema (shared/reference/cloudflare-openapi-dns.json) is OpenAPI 3.0, so
it is converted to JSON Schema first: `nullable: true` becomes a "null" type
(and a null enum member); everything else it uses (allOf/anyOf/oneOf, enum,
ranges, patterns) is plain JSON Schema.  Each answer is checked against the
response schema of its own path, method and status, referenced by JSON
pointer into the whole converted document so every $ref resolves.

Deliberate deviations: KNOWN_DEVIATIONS (contract over schema), the rate-limit
code 971 (below the schema's minimum of 1000), and the 4XX schemas, which are
allOf[<success schema>, <common failure>], which no body can satisfy (the
success half requires success == true, the failure half success == false).
Failures are therefore validated against the failure member of that allOf;
test_published_failure_schemas_are_contradictory pins this reasoning.
"""

import copy
import datetime
import ipaddress
import json
import re

import jsonschema
import pytest
from jsonschema import Draft202012Validator, FormatChecker, RefResolver

from fixtures_cfsim import REFERENCE_DIR as REFERENCE, cfsim, cfsim_tls  # noqa: F401

SCHEMA_FILE = REFERENCE / "cloudflare-openapi-dns.json"
ZSK_EXAMPLE = REFERENCE / "cloudflare-zsk-list-example.json"

pytestmark = pytest.mark.skipif(not SCHEMA_FILE.exists(),
                                reason=f"{SCHEMA_FILE} not available")

PUB = "oXiGYrSTO+LSCJ3mohc8EP+CzF9KxBj8/ydXJ22pKuZP3VAC3/Md/k7xZfz470CoRyZJ6gV6vml07IC3d8xqhA=="
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)"
                      r"(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$")


def openapi_to_jsonschema(node):
    """Rewrite OpenAPI 3.0 `nullable` into JSON Schema, recursively."""
    if isinstance(node, list):
        return [openapi_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: openapi_to_jsonschema(v) for k, v in node.items()}
    if out.pop("nullable", False):
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = types + ["null"] if "null" not in types else types
        if "enum" in out and None not in out["enum"]:
            out["enum"] = out["enum"] + [None]
        for combinator in ("allOf", "anyOf", "oneOf"):
            if combinator in out and "type" not in out:
                # A nullable composite: null, or whatever the composite allows.
                inner = {combinator: out.pop(combinator)}
                out = {"anyOf": [{"type": "null"}, {**out, **inner}]}
                break
    return out


def _checker():
    checker = FormatChecker(formats=())

    @checker.checks("date-time")
    def is_datetime(value):
        if not isinstance(value, str):
            return True
        if not RFC3339.match(value):
            return False
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00")[:26]
                                        if "." not in value else
                                        re.sub(r"\.(\d{1,6})\d*", r".\1",
                                               value).replace("Z", "+00:00"))
        return True

    @checker.checks("hostname")
    def is_hostname(value):
        return not isinstance(value, str) or bool(HOSTNAME.match(value))

    @checker.checks("ipv4", raises=ValueError)
    def is_ipv4(value):
        return not isinstance(value, str) or isinstance(ipaddress.ip_address(value),
                                                        ipaddress.IPv4Address)

    @checker.checks("ipv6", raises=ValueError)
    def is_ipv6(value):
        return not isinstance(value, str) or isinstance(ipaddress.ip_address(value),
                                                        ipaddress.IPv6Address)
    return checker


# Where the contract (cloudflare-api.md, from real answers) and the 2024-08
# schema disagree, the contract wins; each deviation is patched in here, by
# name, so nothing else is loosened.
KNOWN_DEVIATIONS = {
    # "comment (null when unset)": real answers carry "comment": null.
    "dns-records_comment": {"nullable": True},
}


@pytest.fixture(scope="module")
def doc():
    with open(SCHEMA_FILE) as fh:
        raw = json.load(fh)
    for name, patch in KNOWN_DEVIATIONS.items():
        raw["components"]["schemas"][name].update(patch)
    return openapi_to_jsonschema(raw)


def _escape(segment):
    return segment.replace("~", "~0").replace("/", "~1")


def response_pointer(doc, path, method, status):
    """JSON pointer to the schema of this path/method/status, and the schema."""
    responses = doc["paths"][path][method.lower()]["responses"]
    if str(status) in responses:
        key = str(status)
    else:
        key = next(k for k in responses if k.lower() == f"{str(status)[0]}xx")
    base = (f"#/paths/{_escape(path)}/{method.lower()}/responses/{key}"
            f"/content/application~1json/schema")
    schema = responses[key]["content"]["application/json"]["schema"]
    if status >= 400 and "allOf" in schema:
        # See the module docstring: validate against the failure member.
        idx = next(i for i, s in enumerate(schema["allOf"])
                   if s.get("$ref", "").endswith("-failure"))
        return f"{base}/allOf/{idx}"
    return base


def validate(doc, path, method, resp):
    pointer = response_pointer(doc, path, method, resp.status)
    validator = Draft202012Validator({"$ref": pointer},
                                     resolver=RefResolver("", doc),
                                     format_checker=_checker())
    errors = sorted(validator.iter_errors(resp.json), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


@pytest.fixture
def zone(cfsim):
    return cfsim.create_zone("example.com", dnssec={"status": "pending",
                                                   "dnssec_multi_signer": True})["id"]


DNSKEY = {"type": "DNSKEY", "name": "example.com", "ttl": 3600, "comment": "ours",
          "data": {"flags": 256, "protocol": 3, "algorithm": 13, "public_key": PUB}}
Z = "/zones/{zone_id}"
R = "/zones/{zone_id}/dns_records"
RID = "/zones/{zone_id}/dns_records/{dns_record_id}"


# --- success answers ------------------------------------------------------------------

def test_verify_token(cfsim, doc):
    validate(doc, "/user/tokens/verify", "GET", cfsim.get("/user/tokens/verify"))
    cfsim.add_token("exp", expires_on="2020-01-01T00:00:00Z", not_before="2019-01-01T00:00:00Z")
    validate(doc, "/user/tokens/verify", "GET", cfsim.get("/user/tokens/verify", token="exp"))


def test_zones(cfsim, doc, zone):
    cfsim.create_zone("example.org", status="pending")
    for query in ({}, {"name": "example.com"}, {"page": 7}, {"status": "pending"}):
        r = cfsim.get("/zones", query=query)
        assert r.status == 200
        validate(doc, "/zones", "GET", r)
    validate(doc, Z, "GET", cfsim.get(f"/zones/{zone}"))


def test_records(cfsim, doc, zone):
    cfsim.set_config(tags_quota=2)
    bodies = [
        DNSKEY,
        {"type": "NS", "name": "example.com", "content": "ns1.example.net", "ttl": 86400},
        {"type": "TXT", "name": "txt", "content": "hello", "tags": ["owner:me"]},
        {"type": "A", "name": "www", "content": "192.0.2.1", "proxied": True},
        {"type": "AAAA", "name": "www", "content": "2001:db8::1"},
        {"type": "CNAME", "name": "alias", "content": "www.example.com"},
        {"type": "MX", "name": "example.com", "content": "mx.example.net", "priority": 10},
        {"type": "DS", "name": "child", "data": {"key_tag": 1, "algorithm": 13,
                                                 "digest_type": 2, "digest": "ab" * 32}},
        {"type": "CAA", "name": "example.com", "data": {"flags": 0, "tag": "issue",
                                                        "value": "ca.example"}},
    ]
    ids = []
    for body in bodies:
        r = cfsim.post(f"/zones/{zone}/dns_records", body)
        assert r.status == 200, r
        validate(doc, R, "POST", r)
        ids.append(r.result["id"])
    r = cfsim.get(f"/zones/{zone}/dns_records")
    assert r.json["result_info"]["count"] == len(bodies)
    validate(doc, R, "GET", r)
    validate(doc, R, "GET", cfsim.get(f"/zones/{zone}/dns_records", query={"page": 5}))
    validate(doc, RID, "GET", cfsim.get(f"/zones/{zone}/dns_records/{ids[0]}"))
    validate(doc, RID, "PATCH", cfsim.patch(f"/zones/{zone}/dns_records/{ids[0]}",
                                            {"comment": "changed"}))
    validate(doc, RID, "PUT", cfsim.put(f"/zones/{zone}/dns_records/{ids[2]}",
                                        {"type": "TXT", "name": "txt", "content": "bye"}))
    validate(doc, RID, "DELETE", cfsim.delete(f"/zones/{zone}/dns_records/{ids[1]}"))


def test_batch_records_match_record_schema(cfsim, doc, zone):
    # /batch is not in the 2024-08 schema; each record it returns must still
    # be a valid dns-record.
    r = cfsim.post(f"/zones/{zone}/dns_records/batch", {"posts": [DNSKEY]})
    assert r.status == 200
    validator = Draft202012Validator({"$ref": "#/components/schemas/dns-records_dns-record"},
                                     resolver=RefResolver("", doc), format_checker=_checker())
    for rec in r.result["posts"]:
        validator.validate(rec)


def test_dns_settings(cfsim, doc, zone):
    validate(doc, "/zones/{zone_id}/dns_settings", "GET",
             cfsim.get(f"/zones/{zone}/dns_settings"))
    validate(doc, "/zones/{zone_id}/dns_settings", "PATCH",
             cfsim.patch(f"/zones/{zone}/dns_settings", {"multi_provider": True,
                                                         "ns_ttl": 3600}))


def test_dnssec(cfsim, doc):
    zid = cfsim.create_zone("example.net")["id"]
    path = "/zones/{zone_id}/dnssec"
    validate(doc, path, "GET", cfsim.get(f"/zones/{zid}/dnssec"))      # disabled: nulls
    validate(doc, path, "PATCH", cfsim.patch(f"/zones/{zid}/dnssec", {"status": "active"}))
    validate(doc, path, "GET", cfsim.get(f"/zones/{zid}/dnssec"))      # pending: DS fields
    cfsim.set_dnssec(zid, status="active")
    validate(doc, path, "PATCH", cfsim.patch(f"/zones/{zid}/dnssec",
                                             {"dnssec_multi_signer": True}))
    validate(doc, path, "PATCH", cfsim.patch(f"/zones/{zid}/dnssec", {"status": "disabled"}))
    cfsim.set_dnssec(zid, status="disabled")
    r = cfsim.delete(f"/zones/{zid}/dnssec")
    assert r.status == 200
    validate(doc, path, "DELETE", r)


def test_zsk_list_matches_example_schema(cfsim, zone):
    """/dnssec/zsk is not in the schema: check it against one derived from the example."""
    with open(ZSK_EXAMPLE) as fh:
        example = json.load(fh)

    def schema_of(value):
        if isinstance(value, dict):
            return {"type": "object", "required": sorted(value),
                    "properties": {k: schema_of(v) for k, v in value.items()}}
        if isinstance(value, list):
            return {"type": "array", "items": schema_of(value[0])} if value else \
                {"type": "array"}
        return {"type": {bool: "boolean", int: "integer", str: "string"}[type(value)]}

    schema = schema_of(example)
    schema["properties"]["result"]["items"]["properties"]["Tag"] = {
        "enum": ["active", "publish", "external", "retired", "revoked", "removed"]}
    cfsim.zsk_rollover(zone)
    r = cfsim.get(f"/zones/{zone}/dnssec/zsk")
    assert len(r.result) == 2
    jsonschema.validate(r.json, schema)
    assert "result_info" not in r.json


# --- failure answers ------------------------------------------------------------------

@pytest.mark.parametrize("case", [
    ("/user/tokens/verify", "GET", "/user/tokens/verify", None, {"token": "unknown"}),
    ("/user/tokens/verify", "GET", "/user/tokens/verify", None, {"auth": None}),
    ("/zones", "GET", "/zones", None, {"token": "unknown"}),
    ("/zones", "GET", "/zones", None, {"query": {"order": "x"}}),
    ("/zones", "GET", "/zones", None,
     {"auth": None, "headers": {"Authorization": "Basic x"}}),
    ("/zones", "POST", "/zones", {"name": "a.org"}, {}),
    (Z, "GET", "/zones/bad", None, {}),
    (Z, "DELETE", "/zones/{z}", None, {}),
    (R, "GET", "/zones/{z}/dns_records", None, {"query": {"direction": "x"}}),
    (R, "POST", "/zones/{z}/dns_records", {"type": "TXT", "name": "a", "content": "x",
                                          "ttl": 2}, {}),
    (R, "POST", "/zones/{z}/dns_records", "{nope", {}),
    (R, "POST", "/zones/{z}/dns_records", DNSKEY, {"dup": True}),
    (R, "POST", "/zones/{z}/dns_records", DNSKEY, {"token": "ro"}),
    (RID, "GET", "/zones/{z}/dns_records/" + "a" * 32, None, {}),
    (RID, "PUT", "/zones/{z}/dns_records/" + "a" * 32, DNSKEY, {}),
    (RID, "PATCH", "/zones/{z}/dns_records/" + "a" * 32, {"ttl": 60}, {}),
    (RID, "DELETE", "/zones/{z}/dns_records/" + "a" * 32, None, {}),
    ("/zones/{zone_id}/dns_settings", "GET", "/zones/bad/dns_settings", None, {}),
    ("/zones/{zone_id}/dns_settings", "PATCH", "/zones/{z}/dns_settings",
     {"ns_ttl": 1}, {}),
    ("/zones/{zone_id}/dnssec", "GET", "/zones/bad/dnssec", None, {}),
    ("/zones/{zone_id}/dnssec", "PATCH", "/zones/{z}/dnssec", {"status": "x"}, {}),
    ("/zones/{zone_id}/dnssec", "DELETE", "/zones/{z}/dnssec", None, {}),
], ids=lambda c: f"{c[1]} {c[2]} {sorted(c[4])}")
def test_failures(cfsim, doc, zone, case):
    schema_path, method, path, body, opts = case
    opts = dict(opts)
    if opts.pop("dup", False):
        assert cfsim.post(f"/zones/{zone}/dns_records", body).status == 200
    if opts.get("token") == "ro":
        cfsim.add_token("ro", permissions=["dns_read"])
    kw = {k: v for k, v in opts.items() if k in ("token", "query", "auth", "headers")}
    r = cfsim.api(method, path.replace("{z}", zone), body, **kw)
    assert 400 <= r.status < 500, r
    assert r.json["success"] is False
    validate(doc, schema_path, method, r)


def test_rate_limited_answer_is_a_valid_failure(cfsim, doc, zone):
    """Cloudflare's rate-limit code 971 breaks the schema's `code >= 1000`: the
    contract (and real bodies) win, so that is the one violation allowed."""
    cfsim.set_rate_limit(1, 60)
    cfsim.get(f"/zones/{zone}")
    r = cfsim.get(f"/zones/{zone}")
    assert r.status == 429 and r.error_codes == [971]
    with pytest.raises(AssertionError, match="971 is less than the minimum of 1000"):
        validate(doc, Z, "GET", r)
    r.json["errors"][0]["code"] = 1971
    validate(doc, Z, "GET", r)


def test_https_answers_validate_too(cfsim_tls, doc):
    zid = cfsim_tls.create_zone("example.com", dnssec={"status": "active"})["id"]
    validate(doc, "/zones/{zone_id}/dnssec", "GET", cfsim_tls.get(f"/zones/{zid}/dnssec"))


def test_published_failure_schemas_are_contradictory(doc):
    """Why failures are checked against the failure half of the allOf only."""
    resolver = RefResolver("", doc)
    body = {"success": False, "errors": [{"code": 7003, "message": "x"}], "messages": [],
            "result": None}
    full = f"#/paths/{_escape(R)}/get/responses/4xx/content/application~1json/schema"
    with pytest.raises(jsonschema.ValidationError):
        Draft202012Validator({"$ref": full}, resolver=resolver).validate(body)
    Draft202012Validator({"$ref": full + "/allOf/1"}, resolver=resolver).validate(body)


def test_comment_deviation_is_needed():
    """The unpatched schema would reject "comment": null, which the contract requires."""
    with open(SCHEMA_FILE) as fh:
        raw = openapi_to_jsonschema(json.load(fh))
    with pytest.raises(jsonschema.ValidationError):
        Draft202012Validator({"$ref": "#/components/schemas/dns-records_comment"},
                             resolver=RefResolver("", raw)).validate(None)


def test_converter_handles_nullable():
    conv = openapi_to_jsonschema({"type": "string", "nullable": True,
                                  "properties": {"a": {"enum": ["x"], "nullable": True}}})
    assert conv["type"] == ["string", "null"] and conv["properties"]["a"]["enum"] == ["x", None]
    conv = openapi_to_jsonschema({"allOf": [{"type": "object"}], "nullable": True})
    Draft202012Validator(conv).validate(None)
    Draft202012Validator(conv).validate({})
    original = {"nullable": True, "type": "number"}
    openapi_to_jsonschema(copy.deepcopy(original))
    assert original == {"nullable": True, "type": "number"}


KSK_PUB = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
SECONDARY_ZONE_TEXT = f"""$ORIGIN example.net.
$TTL 300
@ SOA ns1.example.net. hostmaster.example.net. 7 3600 600 86400 300
@ NS ns1.example.net.
@ NS kai.ns.cloudflare.com.
@ DNSKEY 256 3 13 {PUB}
@ DNSKEY 257 3 13 {KSK_PUB}
sub NS ns.sub.example.net.
www A 192.0.2.1
"""


def test_secondary_zone_lists_transferred_records_and_refuses_writes(cfsim, doc):
    """A secondary zone lists what came by transfer (read-only) and refuses
    every record write, counting each attempt."""
    import dns.zone
    zid = cfsim.create_zone("example.net", type="secondary",
                            primary=["127.0.0.1", 53])["id"]
    dzone = dns.zone.from_text(SECONDARY_ZONE_TEXT, origin="example.net.", relativize=True)
    cfsim.sim.transfers._install(zid, "AXFR", dzone)
    r = cfsim.get(f"/zones/{zid}/dns_records")
    validate(doc, R, "GET", r)
    got = sorted((x["type"], x["name"], x["content"]) for x in r.result)
    assert got == sorted([
        ("NS", "example.net", "ns1.example.net"), ("NS", "example.net", "kai.ns.cloudflare.com"),
        ("NS", "sub.example.net", "ns.sub.example.net"),
        ("DNSKEY", "example.net", f"256 3 13 {PUB}"),
        ("DNSKEY", "example.net", f"257 3 13 {KSK_PUB}")])
    assert all(x["meta"].get("read_only") is True for x in r.result)
    rid = r.result[0]["id"]
    validate(doc, RID, "GET", cfsim.get(f"/zones/{zid}/dns_records/{rid}"))
    writes = [(R, "POST", f"/zones/{zid}/dns_records",
               {"type": "NS", "name": "example.net", "content": "ns2.example.net"}),
              (RID, "PUT", f"/zones/{zid}/dns_records/{rid}", DNSKEY),
              (RID, "PATCH", f"/zones/{zid}/dns_records/{rid}", {"ttl": 60}),
              (RID, "DELETE", f"/zones/{zid}/dns_records/{rid}", None),
              (None, "POST", f"/zones/{zid}/dns_records/batch", {"posts": [DNSKEY]})]
    for schema_path, method, path, body in writes:
        resp = cfsim.api(method, path, body)
        assert resp.status == 400, resp
        assert resp.json["errors"][0]["code"] == 1004
        assert resp.json["errors"][0]["error_chain"][0]["code"] == 9035
        if schema_path:
            validate(doc, schema_path, method, resp)
    assert cfsim.zone(zid)["write_attempts"] == len(writes)
    assert len(cfsim.get(f"/zones/{zid}/dns_records").result) == 5
