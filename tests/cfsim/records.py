"""DNS record validation, rendering, filtering and ordering.

Pure functions over plain dicts: state.py owns the records and the lock, this
module decides what a request body means and whether Cloudflare would accept
it.  Validation problems raise ValidationFailure (rendered as 1004 + chain),
name problems raise ApiError 9000 directly, as Cloudflare does.
"""

import base64
import binascii
import ipaddress
import re

from .errors import (ValidationFailure, invalid_name, invalid_param,
                     CLOUDFLARE_NS, DNSKEY_NEEDS_MULTI_SIGNER, DNSKEY_NOT_AT_APEX,
                     INVALID_COMMENT, INVALID_CONTENT, INVALID_DATA, INVALID_TAG,
                     INVALID_TTL, INVALID_TYPE, NOT_PROXIABLE, REQUIRED_DATA_FIELD,
                     TAGS_QUOTA)

CONTENT_TYPES = ("A", "AAAA", "CNAME", "MX", "NS", "PTR", "TXT")
# Types whose value is given as structured `data`; `content` is read-only and
# rendered from these fields in this order.
DATA_TYPES = {
    "CAA": ("flags", "tag", "value"),
    "CERT": ("type", "key_tag", "algorithm", "certificate"),
    "DNSKEY": ("flags", "protocol", "algorithm", "public_key"),
    "DS": ("key_tag", "algorithm", "digest_type", "digest"),
    "HTTPS": ("priority", "target", "value"),
    "LOC": ("lat_degrees", "lat_minutes", "lat_seconds", "lat_direction",
            "long_degrees", "long_minutes", "long_seconds", "long_direction",
            "altitude", "size", "precision_horz", "precision_vert"),
    "NAPTR": ("order", "preference", "flags", "service", "regex", "replacement"),
    "SMIMEA": ("usage", "selector", "matching_type", "certificate"),
    "SRV": ("priority", "weight", "port", "target"),
    "SSHFP": ("algorithm", "type", "fingerprint"),
    "SVCB": ("priority", "target", "value"),
    "TLSA": ("usage", "selector", "matching_type", "certificate"),
    "URI": ("weight", "target"),
}
RECORD_TYPES = CONTENT_TYPES + tuple(DATA_TYPES)
PROXIABLE_TYPES = ("A", "AAAA", "CNAME")
PRIORITY_TYPES = ("MX", "URI")
# The numeric DNSKEY / DS fields and their ranges.
NUMERIC_RANGES = {
    ("DNSKEY", "flags"): 65535, ("DNSKEY", "protocol"): 255, ("DNSKEY", "algorithm"): 255,
    ("DS", "key_tag"): 65535, ("DS", "algorithm"): 255, ("DS", "digest_type"): 255,
}

LABEL_RE = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
TAG_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
HEX_RE = re.compile(r"^[0-9A-Fa-f]+$")
TXT_MAX = 2048


def is_integer(value):
    """JSON integers (and integral floats), never booleans."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()


def _valid_hostname(name):
    if not name or len(name) > 253:
        return False
    labels = name.split(".")
    for i, label in enumerate(labels):
        if label == "*" and i == 0:
            continue
        if not LABEL_RE.match(label):
            return False
    return True


def normalize_name(raw, zone_name):
    """Record name as Cloudflare stores it: FQDN, lower case, no trailing dot.

    '@' and the empty name mean the apex; a name outside the zone gets the
    zone appended (Cloudflare treats it as relative).
    """
    if not isinstance(raw, str):
        raise invalid_name()
    name = raw.strip().lower()
    if name.endswith(".."):
        raise invalid_name()
    name = name[:-1] if name.endswith(".") else name
    if name in ("@", ""):
        name = zone_name
    elif name != zone_name and not name.endswith("." + zone_name):
        name = f"{name}.{zone_name}"
    if not _valid_hostname(name):
        raise invalid_name()
    return name


def _hostname_content(value, what="content"):
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailure(INVALID_CONTENT, f"{what} must be a valid hostname.")
    host = value.strip().lower()
    host = host[:-1] if host.endswith(".") else host
    if not _valid_hostname(host) or "*" in host:
        raise ValidationFailure(INVALID_CONTENT, f"{what} must be a valid hostname.")
    return host


def _int_field(value, field, maximum, minimum=0):
    if value is None:
        raise ValidationFailure(REQUIRED_DATA_FIELD, f"{field} is a required data field.")
    if not is_integer(value) or not minimum <= value <= maximum:
        raise ValidationFailure(INVALID_DATA,
                                f"{field} must be an integer between {minimum} and {maximum}.")
    return int(value)


def _validate_dnskey(data):
    out = {}
    for field in ("flags", "protocol", "algorithm"):
        out[field] = _int_field(data.get(field), field, NUMERIC_RANGES[("DNSKEY", field)])
    if out["protocol"] != 3:
        raise ValidationFailure(INVALID_DATA, "protocol must be 3.")
    key = data.get("public_key")
    if key is None:
        raise ValidationFailure(REQUIRED_DATA_FIELD, "public_key is a required data field.")
    if not isinstance(key, str):
        raise ValidationFailure(INVALID_DATA, "public_key must be a base64 string.")
    try:
        raw = base64.b64decode("".join(key.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailure(INVALID_DATA, "public_key must be valid base64.") from None
    if not raw:
        raise ValidationFailure(INVALID_DATA, "public_key must not be empty.")
    out["public_key"] = base64.b64encode(raw).decode("ascii")
    return out


def _validate_ds(data):
    out = {}
    for field in ("key_tag", "algorithm", "digest_type"):
        out[field] = _int_field(data.get(field), field, NUMERIC_RANGES[("DS", field)])
    digest = data.get("digest")
    if digest is None:
        raise ValidationFailure(REQUIRED_DATA_FIELD, "digest is a required data field.")
    if not isinstance(digest, str) or not HEX_RE.match(digest) or len(digest) % 2:
        raise ValidationFailure(INVALID_DATA, "digest must be a hex string.")
    out["digest"] = digest.upper()
    return out


def _validate_generic_data(rtype, data):
    out = {}
    for field in DATA_TYPES[rtype]:
        if field in data and data[field] is not None:
            value = data[field]
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise ValidationFailure(INVALID_DATA, f"{field} has an invalid type.")
            out[field] = int(value) if is_integer(value) else value
    if not out:
        raise ValidationFailure(REQUIRED_DATA_FIELD, "data is a required field.")
    return out


def render_content(rtype, data):
    return " ".join(str(data[f]) for f in DATA_TYPES[rtype] if f in data)


class ZoneView:
    """What record validation needs to know about the zone."""

    def __init__(self, name, multi_signer, options):
        self.name = name
        self.multi_signer = multi_signer
        self.options = options


def build_record(body, zone):
    """Validate a full record body (POST/PUT, or a PATCH merged onto the record).

    Returns the user-settable fields: type, name, content, data?, priority?,
    ttl, proxied, comment, tags.
    """
    rtype = body.get("type")
    if rtype is None:
        raise ValidationFailure(INVALID_TYPE, "type is a required field.")
    if not isinstance(rtype, str) or rtype not in RECORD_TYPES:
        raise ValidationFailure(INVALID_TYPE, f"Invalid DNS record type: {rtype!r}.")
    if "name" not in body or body.get("name") is None:
        raise ValidationFailure(REQUIRED_DATA_FIELD, "name is a required field.")
    name = normalize_name(body["name"], zone.name)
    rec = {"type": rtype, "name": name}

    ttl = body.get("ttl", 1)
    if not is_integer(ttl) or not (ttl == 1 or 60 <= ttl <= 86400):
        raise ValidationFailure(
            INVALID_TTL, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.")
    rec["ttl"] = int(ttl)

    proxied = body.get("proxied", False)
    if proxied is None:
        proxied = False
    if not isinstance(proxied, bool):
        raise ValidationFailure(NOT_PROXIABLE, "proxied must be a boolean.")
    if proxied and rtype not in PROXIABLE_TYPES:
        raise ValidationFailure(NOT_PROXIABLE, "This record type cannot be proxied.")
    rec["proxied"] = proxied

    comment = body.get("comment")
    if comment == "":
        comment = None       # an empty comment clears it
    if comment is not None:
        if not isinstance(comment, str):
            raise ValidationFailure(INVALID_COMMENT, "comment must be a string.")
        if "\n" in comment or "\r" in comment:
            raise ValidationFailure(INVALID_COMMENT, "comment must not contain newlines.")
        limit = zone.options["comment_max"]
        if len(comment) > limit:
            raise ValidationFailure(INVALID_COMMENT,
                                    f"comment must be at most {limit} characters.")
    rec["comment"] = comment

    tags = body.get("tags", [])
    if tags is None:
        tags = []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValidationFailure(INVALID_TAG, "tags must be a list of strings.")
    for tag in tags:
        tname = tag.split(":", 1)[0]
        if not TAG_NAME_RE.match(tname):
            raise ValidationFailure(INVALID_TAG, f"Invalid tag {tag!r}: names are [A-Za-z0-9_-].")
    quota = zone.options["tags_quota"]
    if len(tags) > quota:
        raise ValidationFailure(TAGS_QUOTA,
                                f"DNS record has {len(tags)} tags, exceeding the quota of {quota}.")
    rec["tags"] = list(tags)

    if rtype in DATA_TYPES:
        data = body.get("data")
        if data is None:
            raise ValidationFailure(REQUIRED_DATA_FIELD, "data is a required field.")
        if not isinstance(data, dict):
            raise ValidationFailure(INVALID_DATA, "data must be an object.")
        if rtype == "DNSKEY":
            if not zone.multi_signer:
                raise ValidationFailure(
                    DNSKEY_NEEDS_MULTI_SIGNER,
                    "DNSKEY records can only be added when multi-signer DNSSEC "
                    "(dnssec_multi_signer) is enabled on the zone.")
            if name != zone.name:
                raise ValidationFailure(DNSKEY_NOT_AT_APEX,
                                        "DNSKEY records are only allowed at the zone apex.")
            data = _validate_dnskey(data)
        elif rtype == "DS":
            if name == zone.name:
                raise ValidationFailure(INVALID_DATA, "DS records are not allowed at the zone apex.")
            data = _validate_ds(data)
        else:
            data = _validate_generic_data(rtype, data)
        rec["data"] = data
        rec["content"] = render_content(rtype, data)
    else:
        content = body.get("content")
        if content is None:
            raise ValidationFailure(REQUIRED_DATA_FIELD, "content is a required field.")
        rec["content"] = _validate_content(rtype, content, name)

    if rtype in PRIORITY_TYPES:
        prio = body.get("priority")
        if prio is None:
            raise ValidationFailure(REQUIRED_DATA_FIELD, "priority is a required field.")
        rec["priority"] = _int_field(prio, "priority", 65535)
    return rec


def _validate_content(rtype, content, name):
    if not isinstance(content, str):
        raise ValidationFailure(INVALID_CONTENT, "content must be a string.")
    if rtype in ("A", "AAAA"):
        try:
            addr = ipaddress.ip_address(content.strip())
        except ValueError:
            addr = None
        want = ipaddress.IPv4Address if rtype == "A" else ipaddress.IPv6Address
        if not isinstance(addr, want):
            raise ValidationFailure(INVALID_CONTENT,
                                    f"Content for {rtype} record is invalid. Must be a valid "
                                    f"IPv{4 if rtype == 'A' else 6} address.")
        return str(addr)
    if rtype == "TXT":
        if not content or len(content) > TXT_MAX:
            raise ValidationFailure(INVALID_CONTENT,
                                    f"TXT content must be 1 to {TXT_MAX} characters.")
        return content
    host = _hostname_content(content)
    if rtype == "NS" and (host == "ns.cloudflare.com" or host.endswith(".ns.cloudflare.com")):
        raise ValidationFailure(CLOUDFLARE_NS,
                                "Cloudflare nameservers cannot be added as NS records; "
                                "they are managed by Cloudflare.")
    if rtype == "CNAME" and host == name:
        raise ValidationFailure(INVALID_CONTENT, "CNAME content must not match the record name.")
    return host


def editable_view(rec):
    """The user-settable fields of a stored record, the base a PATCH merges onto."""
    keys = ("type", "name", "content", "data", "priority", "ttl", "proxied", "comment", "tags")
    return {k: rec[k] for k in keys if k in rec}


def identity(rec):
    """Records with equal identity are 'identical' for error 81058."""
    return (rec["type"], rec["name"].lower(), rec["content"].lower(), rec.get("priority"))


def render(rec):
    """The API view of a stored record: drop internal keys ('_'-prefixed)."""
    out = {k: v for k, v in rec.items() if not k.startswith("_")}
    if "data" in out:
        out["data"] = dict(out["data"])
    out["tags"] = list(out["tags"])
    out["settings"] = dict(out["settings"])
    out["meta"] = dict(out["meta"])
    return out


# ---------------------------------------------------------------------------
# Listing: filters and ordering
# ---------------------------------------------------------------------------

STRING_OPS = ("exact", "contains", "startswith", "endswith")
ORDER_KEYS = ("type", "name", "content", "ttl", "proxied")


def _string_test(op, want):
    want = want.lower()
    if op == "exact":
        return lambda v: v is not None and v.lower() == want
    if op == "contains":
        return lambda v: v is not None and want in v.lower()
    if op == "startswith":
        return lambda v: v is not None and v.lower().startswith(want)
    return lambda v: v is not None and v.lower().endswith(want)


def _name_value(value):
    value = value.strip().lower()
    return value[:-1] if value.endswith(".") else value


def build_filter(query):
    """Turn list query parameters into a predicate over stored records."""
    conds = []       # combined by `match`
    tag_conds = []   # combined by `tag_match`, then joined to conds

    for key, value in query.items():
        field, _, op = key.partition(".")
        if field == "type" and not op:
            want = value.upper()
            conds.append(lambda r, w=want: r["type"] == w)
        elif field == "name":
            op = op or "exact"
            if op not in STRING_OPS:
                raise invalid_param(key, "unknown operator")
            test = _string_test(op, _name_value(value))
            conds.append(lambda r, t=test: t(r["name"]))
        elif field == "content":
            op = op or "exact"
            if op not in STRING_OPS:
                raise invalid_param(key, "unknown operator")
            test = _string_test(op, value)
            conds.append(lambda r, t=test: t(r["content"]))
        elif field == "comment":
            op = op or "exact"
            if op == "present":
                conds.append(lambda r: r["comment"] is not None)
            elif op == "absent":
                conds.append(lambda r: r["comment"] is None)
            elif op in STRING_OPS:
                test = _string_test(op, value)
                conds.append(lambda r, t=test: t(r["comment"]))
            else:
                raise invalid_param(key, "unknown operator")
        elif field == "proxied" and not op:
            if value.lower() not in ("true", "false"):
                raise invalid_param(key, "must be true or false")
            want = value.lower() == "true"
            conds.append(lambda r, w=want: r["proxied"] == w)
        elif field == "tag":
            tag_conds.append(_tag_condition(key, op, value))
        elif field == "search" and not op:
            needle = value.lower()
            conds.append(lambda r, n=needle: any(
                n in (r.get(f) or "").lower() for f in ("name", "content", "comment")))
    match = query.get("match", "all")
    tag_match = query.get("tag_match", "all")
    for key, val in (("match", match), ("tag_match", tag_match)):
        if val not in ("all", "any"):
            raise invalid_param(key, "must be all or any")
    if tag_conds:
        combine = all if tag_match == "all" else any
        conds.append(lambda r, tc=tuple(tag_conds), c=combine: c(t(r) for t in tc))
    if not conds:
        return lambda r: True
    combine = all if match == "all" else any
    return lambda r: combine(c(r) for c in conds)


def _tag_condition(key, op, value):
    def pairs(rec):
        for tag in rec["tags"]:
            name, _, val = tag.partition(":")
            yield name.lower(), val.lower()

    if op in ("", "present", "absent"):
        if op == "" and ":" in value:
            op = "exact"
        else:
            want = value.lower()
            has = lambda r, w=want: any(n == w for n, _ in pairs(r))
            return (lambda r: not has(r)) if op == "absent" else has
    if op not in STRING_OPS:
        raise invalid_param(key, "unknown operator")
    name, sep, val = value.partition(":")
    if not sep:
        raise invalid_param(key, "must be <tag-name>:<tag-value>")
    test = _string_test(op, val)
    want = name.lower()
    return lambda r: any(n == want and test(v) for n, v in pairs(r))


def sort_records(records, order, direction):
    if order not in ORDER_KEYS:
        raise invalid_param("order", f"must be one of {', '.join(ORDER_KEYS)}")
    if direction not in ("asc", "desc"):
        raise invalid_param("direction", "must be asc or desc")
    # Tie-break on creation sequence so pages are stable between requests.
    keyfn = lambda r: (r[order], r["_seq"])
    return sorted(records, key=keyfn, reverse=(direction == "desc"))
