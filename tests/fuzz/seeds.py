#!/usr/bin/python3
"""Seed corpora for the libFuzzer targets (tests/fuzz, doc/hardening.md).

Usage: seeds.py SRCDIR OUTDIR TARGET...

Writes OUTDIR/<target>/<name> for each target, generated from what the
project already records (never copied by hand): the Cloudflare responses in
tests/data/cf, the example responses in the API reference
(tests/data/reference), keymgr's outputs in tests/data/keymgr; and from
them the DNSKEY forms, a saved state file and DNS answers (dnspython); and
status files and HTTP header blocks as the docs describe them.
"""
import base64
import hashlib
import json
import os
import re
import struct
import sys

import dns.flags
import dns.message
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

ZONE = "example.com."
DNSKEY_TEXT = re.compile(r"^\d+ 3 \d+ [A-Za-z0-9+/= ]+$")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def walk(value):
    """Every value inside a JSON document."""
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def cf_responses(src):
    """Recorded bodies, and the reference's example envelopes."""
    out = {}
    d = os.path.join(src, "tests/data/cf")
    for name in sorted(os.listdir(d)):
        if name != "README":
            out[name] = read(os.path.join(d, name))
    ref = os.path.join(src, "tests/data/reference")
    out["ref-zsk-list.json"] = read(os.path.join(ref, "cloudflare-zsk-list-example.json"))
    spec = json.loads(read(os.path.join(ref, "cloudflare-openapi-dns.json")))
    n = 0
    for v in walk(spec):
        if isinstance(v, dict) and "success" in v and ("result" in v or "errors" in v):
            n += 1
            out["ref-example-%d.json" % n] = json.dumps(v).encode()
    return out


def dnskey_texts(bodies, src):
    texts = set()
    for body in bodies.values():
        try:
            doc = json.loads(body)
        except ValueError:
            continue
        for v in walk(doc):
            if isinstance(v, str) and DNSKEY_TEXT.match(v):
                texts.add(v)
    for line in read(os.path.join(src, "tests/data/keymgr/dnskey-zsk.txt")).decode().splitlines():
        if " DNSKEY " in line:
            texts.add(line.split(" DNSKEY ", 1)[1].strip())
    return sorted(texts)


def wire(text):
    flags, proto, alg, b64 = text.split(" ", 3)
    return struct.pack("!HBB", int(flags), int(proto), int(alg)) + \
        base64.b64decode("".join(b64.split()))


def state_file(texts):
    """A saved state in the form doc/planning.md gives (version 1)."""
    ids = [hashlib.md5(t.encode()).hexdigest() for t in texts]
    return json.dumps({
        "version": 1,
        "zone": ZONE.rstrip("."),
        "out_of_step_since": 1700000300,
        "owned_records": [{"id": ids[0], "type": "DNSKEY", "dnskey": texts[0],
                           "since": 1700000000},
                          {"id": ids[-1][::-1], "type": "NS", "name": "ns1.example.net",
                           "since": 1700000060}],
        "cloudflare_keys": [{"dnskey": t, "first_seen": 1700000000, "last_seen": 1700003600,
                             "gone_since": 0, "remove_after": 0,
                             "in_local_since": 1700000060} for t in texts[1:3]],
        "our_zsks": [{"dnskey": texts[0], "confirmed_since": 1700000060}],
    }, indent=1).encode()


def dns_answers(texts):
    """Answers knotd would give to the module's SOA, DNSKEY and NS queries."""
    def answer(rdtype, rdatas, tc=False, rcode=0):
        q = dns.message.make_query(ZONE, rdtype, use_edns=0, want_dnssec=True,
                                   payload=1232)
        q.flags &= ~dns.flags.RD
        q.id = 0x4d53
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA
        if tc:
            r.flags |= dns.flags.TC
        r.set_rcode(rcode)
        if rdatas and not tc:
            rrs = dns.rrset.from_text_list(ZONE, 3600, "IN", rdtype, rdatas)
            r.answer.append(rrs)
            sig = "%s 13 2 3600 20270101000000 20261201000000 12345 %s %s" % (
                dns.rdatatype.to_text(rrs.rdtype), ZONE,
                base64.b64encode(bytes(range(64))).decode())
            r.answer.append(dns.rrset.from_text(ZONE, 3600, "IN", "RRSIG", sig))
        return r.to_wire()
    return {
        "soa": answer("SOA", ["ns1.example.com. admin.example.com. 2026120501 3600 900 "
                              "1209600 300"]),
        "dnskey": answer("DNSKEY", texts[:4]),
        "ns": answer("NS", ["ns1.example.com.", "kiki.ns.cloudflare.com."]),
        "dnskey-tc": answer("DNSKEY", texts, tc=True),
        "refused": answer("SOA", [], rcode=5),
    }


def status_files():
    """Status files as doc/mod-multisigner.rst (Status) describes them: the
    fields ms_status_recall reads, with and without a last error."""
    base = {"version": 1, "zone": ZONE.rstrip("."), "updated": "2026-12-05T07:20:11Z",
            "dry_run": False, "last_success": "2026-12-05T07:20:11Z", "last_error": None}
    failed = dict(base, last_error={"time": "2026-12-05T07:21:11Z",
                                    "message": "GET /zones/023e105f4ecef8ad9ca31a8372d0c353/"
                                               "dnssec: Cloudflare error 9109: Invalid "
                                               "access token (HTTP 403)"})
    return {"ok.status": json.dumps(base, indent=2).encode(),
            "error.status": json.dumps(failed, indent=2).encode()}


HEADERS = {
    "429": b"HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\n"
           b"retry-after: 300\r\n\r\n",
    "date": b"HTTP/2 503\r\nRetry-After: Wed, 21 Oct 2026 07:28:00 GMT\r\n\r\n",
    "ratelimit": b"HTTP/2 200\r\nx-ratelimit-limit: 1200\r\nx-ratelimit-remaining: 1199\r\n"
                 b"x-ratelimit-reset: 300\r\n\r\n",
    "continue": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nretry-after: 5\r\n\r\n",
}


def seeds_for(target, src, cache):
    if "cf" not in cache:
        cache["cf"] = cf_responses(src)
        cache["texts"] = dnskey_texts(cache["cf"], src)
    bodies, texts = cache["cf"], cache["texts"]
    kdir = os.path.join(src, "tests/data/keymgr")
    if target.startswith("fuzz_cf_"):
        return bodies
    if target == "fuzz_dnskey_text":
        return {"key-%d" % i: t.encode() for i, t in enumerate(texts)}
    if target == "fuzz_dnskey_wire":
        return {"key-%d" % i: wire(t) for i, t in enumerate(texts)}
    if target == "fuzz_dnskey_b64":
        return {"key-%d" % i: t.split(" ", 3)[3].encode() for i, t in enumerate(texts)}
    if target == "fuzz_keymgr_list":
        return {n: read(os.path.join(kdir, n)) for n in sorted(os.listdir(kdir))
                if n.startswith("list-")}
    if target == "fuzz_keymgr_dnskey":
        return {"dnskey": read(os.path.join(kdir, "dnskey-zsk.txt"))}
    if target == "fuzz_keymgr_import":
        return {"import": read(os.path.join(kdir, "import-pub.txt"))}
    if target == "fuzz_zone_state":
        return {"state.json": state_file(texts)}
    if target == "fuzz_local_dns":
        return dns_answers(texts)
    if target == "fuzz_http_header":
        return HEADERS
    if target == "fuzz_status_recall":
        return status_files()
    raise SystemExit("seeds.py: no seeds for %s" % target)


def main():
    src, out, targets = sys.argv[1], sys.argv[2], sys.argv[3:]
    cache = {}
    for t in targets:
        d = os.path.join(out, t)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds_for(t, src, cache).items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
