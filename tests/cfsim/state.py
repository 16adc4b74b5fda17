"""The simulator's state: zones, records, DNSSEC, DNS settings, keys, tokens.

One re-entrant lock (`Store.lock`) guards everything; API and admin handlers
take it for the whole operation so a batch or a paged read never sees a
half-applied change.  Methods here assume the caller holds the lock.
"""

import copy
import datetime
import itertools
import secrets
import threading

from . import records as rr
from .errors import (ApiError, ValidationFailure, bad_body, invalid_setting, record_identical,
                     record_not_found, BATCH_TOO_LARGE, DNSSEC_NOT_DISABLED)
from .keys import FLAGS_KSK, FLAGS_ZSK, DnssecKey, RawKey

DEFAULT_OPTIONS = {
    "records_per_page": 100,      # default per_page for dns_records
    "records_max_per_page": 5000000,
    "zones_per_page": 20,
    "zones_min_per_page": 5,
    "zones_max_per_page": 50,
    "batch_limit": 200,           # Free plan: 200 operations per batch
    "tags_quota": 0,              # Free plan zones may carry no tags
    "comment_max": 100,           # Free plan comment length
    "show_removed_zsk": False,    # list removed ZSKs with Tag "removed" instead of dropping
    "validation_error_style": "chain",   # "chain" (1004 + error_chain) or "direct"
    "perm_denied_status": 403,    # Cloudflare sometimes answers 401
    "strict_key_format": True,    # X-Auth-Key must look like a global key (37 hex)
    "dnskey_ttl": 3600,
    "max_body": 10 * 1024 * 1024,
}
OPTION_TYPES = {k: type(v) for k, v in DEFAULT_OPTIONS.items()}

DNSSEC_STATUSES = ("active", "pending", "disabled", "pending-disabled", "error")
ZSK_TAGS = ("active", "publish", "external", "retired", "revoked", "removed")
PERMISSIONS = ("zone_read", "dns_read", "dns_write", "dns_settings_read", "dns_settings_write")
DEFAULT_NS = ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"]
ACCOUNT = {"id": "0123456789abcdef0123456789abcdef", "name": "cfsim account"}


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id():
    return secrets.token_hex(16)   # 32 lowercase hex, like Cloudflare ids


class Token:
    def __init__(self, value, permissions=None, status="active", zones=None,
                 not_before=None, expires_on=None):
        self.id = new_id()
        self.value = value
        self.permissions = set(PERMISSIONS if permissions is None else permissions)
        self.status = status
        self.zones = None if zones is None else {z.lower() for z in zones}
        self.not_before = not_before
        self.expires_on = expires_on

    def current_status(self):
        if self.status == "active" and self.expires_on and self.expires_on <= now_rfc3339():
            return "expired"
        return self.status

    def describe(self, with_value=True):
        out = {"id": self.id, "status": self.current_status(),
               "permissions": sorted(self.permissions),
               "zones": None if self.zones is None else sorted(self.zones),
               "not_before": self.not_before, "expires_on": self.expires_on}
        if with_value:
            out["token"] = self.value
        return out


class Zsk:
    def __init__(self, key, tag):
        self.key = key
        self.tag = tag
        # Stands in for Cloudflare's encrypted private key blob: opaque random
        # bytes, so a client that stores or logs it leaks nothing real.
        self.privkey_blob = secrets.token_urlsafe(48)


class Zone:
    def __init__(self, name, zone_type="full", status="active", name_servers=None, zone_id=None):
        ts = now_rfc3339()
        self.id = zone_id or new_id()
        self.name = name
        self.type = zone_type
        self.status = status
        self.name_servers = list(name_servers or DEFAULT_NS)
        self.created_on = ts
        self.modified_on = ts
        self.activated_on = ts if status == "active" else None
        self.records = {}            # id -> stored record (API shape + '_seq')
        # Every record write tried through the API (counted even when refused).
        self.write_attempts = 0
        # Secondary zones (secondary.py): the primary to pull from, what came.
        self.primary = None          # (host, port)
        self.transfers_paused = False
        self.xfr_zone = None         # dns.zone.Zone of the last transfer
        self.serial = None
        self.notifies = 0
        self.transfer_log = []       # [{kind, serial, error}], the last 50
        self.dnssec = {"status": "disabled", "dnssec_multi_signer": False,
                       "dnssec_presigned": False, "dnssec_use_nsec3": False,
                       "modified_on": None}
        self.dns_settings = {
            "flatten_all_cnames": False,
            "foundation_dns": False,
            "multi_provider": False,
            "nameservers": {"type": "cloudflare.standard"},
            "ns_ttl": 86400,
            "secondary_overrides": False,
            "soa": {"expire": 604800, "min_ttl": 1800, "mname": self.name_servers[0],
                    "refresh": 10000, "retry": 2400,
                    "rname": "dns.cloudflare.com", "ttl": 3600},
            "zone_mode": "standard",
        }
        self.new_keys()

    def new_keys(self):
        self.ksk = DnssecKey(FLAGS_KSK)
        self.zsks = [Zsk(DnssecKey(FLAGS_ZSK), "active")]

    def view(self):
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "paused": False,
            "type": self.type,
            "development_mode": 0,
            "name_servers": list(self.name_servers),
            "original_name_servers": None,
            "original_registrar": None,
            "original_dnshost": None,
            "created_on": self.created_on,
            "modified_on": self.modified_on,
            "activated_on": self.activated_on,
            "meta": {"step": 2, "custom_certificate_quota": 0, "page_rule_quota": 3,
                     "phishing_detected": False},
            "owner": {"id": ACCOUNT["id"], "type": "user", "name": "cfsim@example.invalid"},
            "account": dict(ACCOUNT),
            "tenant": {"id": None, "name": None},
            "tenant_unit": {"id": None},
            "permissions": ["#dns_records:edit", "#dns_records:read", "#zone:read"],
            "plan": {"id": "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "name": "Free Website",
                     "price": 0, "currency": "USD", "frequency": "", "is_subscribed": False,
                     "can_subscribe": False, "legacy_id": "free", "legacy_discount": False,
                     "externally_managed": False},
            "vanity_name_servers": [],
        }

    # --- DNSSEC ---------------------------------------------------------------
    def dnssec_on(self):
        return self.dnssec["status"] in ("active", "pending", "pending-disabled")

    def dnssec_view(self, ttl):
        d = self.dnssec
        out = {"status": d["status"], "dnssec_multi_signer": d["dnssec_multi_signer"],
               "dnssec_presigned": d["dnssec_presigned"],
               "dnssec_use_nsec3": d["dnssec_use_nsec3"], "modified_on": d["modified_on"]}
        ds_fields = ("algorithm", "digest", "digest_algorithm", "digest_type", "ds", "flags",
                     "key_tag", "key_type", "public_key")
        if self.dnssec_on():
            k = self.ksk
            out.update({"algorithm": "13", "digest": k.ds(self.name),
                        "digest_algorithm": "SHA256", "digest_type": "2",
                        "ds": k.ds_text(self.name, ttl), "flags": FLAGS_KSK,
                        "key_tag": k.key_tag, "key_type": "ECDSAP256SHA256",
                        "public_key": k.public_b64})
        else:
            out.update({f: None for f in ds_fields})
        return out

    def zsk_list(self, ttl, show_removed):
        if not self.dnssec_on():
            return []
        out = []
        for z in self.zsks:
            if z.tag == "removed" and not show_removed:
                continue
            k = z.key
            out.append({
                "DNSKEY": {"Algorithm": getattr(k, "algorithm", 13), "Flags": k.flags,
                           "Hdr": {"Class": 1, "Name": self.name + ".", "Rdlength": 0,
                                   "Rrtype": 48, "Ttl": ttl},
                           "Protocol": getattr(k, "protocol", 3), "PublicKey": k.public_b64},
                "Location": "database",
                "Name": "zsk_default",
                "SigningKey": {"kek": "edge_kek_default", "privkey": z.privkey_blob,
                               "pubkey": k.rdata_text},
                "Tag": z.tag,
            })
        return out

    def served_dnskeys(self, ttl):
        """The DNSKEY RRset Cloudflare would serve (text, one per record)."""
        if not self.dnssec_on():
            return []
        out = [self.ksk.dnskey_text(self.name, ttl)]
        out += [z.key.dnskey_text(self.name, ttl) for z in self.zsks
                if z.tag in ("publish", "active", "retired")]
        if self.dnssec["dnssec_multi_signer"]:
            out += [f"{self.name}. {ttl} IN DNSKEY {r['content']}"
                    for r in self.records.values() if r["type"] == "DNSKEY"]
        # A secondary zone's transfer carries Cloudflare's own keys back too.
        return list(dict.fromkeys(out))

    def served_ns(self):
        ns = list(self.name_servers)
        if self.dns_settings["multi_provider"]:
            ns += [r["content"] for r in self.records.values()
                   if r["type"] == "NS" and r["name"] == self.name]
        return list(dict.fromkeys(ns))

    def secondary_view(self):
        return {"primary": list(self.primary) if self.primary else None,
                "transfers_paused": self.transfers_paused, "serial": self.serial,
                "notifies": self.notifies, "transfers": list(self.transfer_log)}


class Store:
    def __init__(self, options=None):
        self.lock = threading.RLock()
        self.options = dict(DEFAULT_OPTIONS)
        self.zones = {}
        self.by_name = {}         # name -> Zone: look-ups stay O(1) with 10,000 zones
        self.tokens = {}          # value -> Token
        self.legacy = {}          # email (lower) -> global key
        self._seq = itertools.count(1)
        if options:
            self.set_options(options)

    # --- options ----------------------------------------------------------------
    def set_options(self, changes):
        for key, value in changes.items():
            if key not in DEFAULT_OPTIONS:
                raise ValueError(f"unknown option {key!r}")
            want = OPTION_TYPES[key]
            if want is int and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"option {key} must be an integer")
            if want is bool and not isinstance(value, bool):
                raise ValueError(f"option {key} must be a boolean")
            if want is str and not isinstance(value, str):
                raise ValueError(f"option {key} must be a string")
        if changes.get("validation_error_style", "chain") not in ("chain", "direct"):
            raise ValueError("validation_error_style must be chain or direct")
        self.options.update(changes)

    # --- credentials ------------------------------------------------------------
    def add_token(self, value, **kw):
        if not isinstance(value, str) or not value:
            raise ValueError("token must be a non-empty string")
        perms = kw.get("permissions")
        if perms is not None and not set(perms) <= set(PERMISSIONS):
            raise ValueError(f"permissions must be among {PERMISSIONS}")
        if kw.get("status", "active") not in ("active", "disabled", "expired"):
            raise ValueError("status must be active, disabled or expired")
        tok = Token(value, **kw)
        self.tokens[value] = tok
        return tok

    def add_legacy(self, email, key):
        self.legacy[email.lower()] = key

    # --- zones -------------------------------------------------------------------
    def create_zone(self, name, zone_type="full", status="active", name_servers=None,
                    zone_id=None, dnssec=None, dns_settings=None, primary=None):
        name = name.strip().rstrip(".").lower()
        if not rr._valid_hostname(name) or "." not in name:
            raise ValueError(f"invalid zone name {name!r}")
        if name in self.by_name:
            raise ValueError(f"zone {name} exists")
        if zone_type not in ("full", "partial", "secondary"):
            raise ValueError("type must be full, partial or secondary")
        if status not in ("active", "pending", "initializing", "moved"):
            raise ValueError("bad zone status")
        zone = Zone(name, zone_type, status, name_servers, zone_id)
        if zone.id in self.zones:
            raise ValueError("zone id exists")
        if dnssec:
            self.admin_set_dnssec(zone, dnssec)
        if dns_settings:
            zone.dns_settings.update(dns_settings)
        if primary is not None:
            self.set_secondary(zone, primary=primary)
        self.zones[zone.id] = zone
        self.by_name[zone.name] = zone
        return zone

    @staticmethod
    def set_secondary(zone, primary=None, paused=None):
        """Where a secondary zone pulls from: [host, port], loopback only."""
        if zone.type != "secondary":
            raise ValueError(f"zone {zone.name} is not a secondary zone")
        if primary is not None:
            if not isinstance(primary, (list, tuple)) or len(primary) != 2 or \
                    not isinstance(primary[0], str) or not rr.is_integer(primary[1]) or \
                    not 0 < primary[1] < 65536:
                raise ValueError("primary must be [host, port]")
            if not (primary[0].startswith("127.") or primary[0] == "::1"):
                raise ValueError("the primary must be on a loopback address")
            zone.primary = (primary[0], int(primary[1]))
        if paused is not None:
            if not isinstance(paused, bool):
                raise ValueError("paused must be a boolean")
            zone.transfers_paused = paused

    def delete_zone(self, zone):
        del self.zones[zone.id]
        del self.by_name[zone.name]

    def zone_by_name(self, name):
        return self.by_name.get(name)

    # --- records -----------------------------------------------------------------
    def _zone_view(self, zone):
        return rr.ZoneView(zone.name, zone.dnssec["dnssec_multi_signer"], self.options)

    def _validate(self, zone, body):
        try:
            return rr.build_record(body, self._zone_view(zone))
        except ValidationFailure as vf:
            raise vf.to_api_error(self.options["validation_error_style"]) from None

    @staticmethod
    def _check_identical(records, fields, exclude_id=None):
        ident = rr.identity(fields)
        for rid, other in records.items():
            if rid != exclude_id and rr.identity(other) == ident:
                raise record_identical()

    def _store_new(self, records, fields):
        ts = now_rfc3339()
        rec = {"id": new_id(), **fields,
               "proxiable": fields["type"] in rr.PROXIABLE_TYPES,
               "settings": {}, "meta": {}, "created_on": ts, "modified_on": ts,
               "_seq": next(self._seq)}
        records[rec["id"]] = rec
        return rec

    @staticmethod
    def _replace(records, old, fields):
        rec = {"id": old["id"], **fields,
               "proxiable": fields["type"] in rr.PROXIABLE_TYPES,
               "settings": {}, "meta": dict(old["meta"]),
               "created_on": old["created_on"], "modified_on": now_rfc3339(),
               "_seq": old["_seq"]}
        records[rec["id"]] = rec
        return rec

    def _op_create(self, zone, records, body):
        if not isinstance(body, dict):
            raise bad_body()
        fields = self._validate(zone, body)
        self._check_identical(records, fields)
        return self._store_new(records, fields)

    def _op_put(self, zone, records, rid, body):
        if not isinstance(body, dict):
            raise bad_body()
        old = records.get(rid)
        if old is None:
            raise record_not_found()
        fields = self._validate(zone, body)
        self._check_identical(records, fields, exclude_id=rid)
        return self._replace(records, old, fields)

    def _op_patch(self, zone, records, rid, body):
        if not isinstance(body, dict):
            raise bad_body()
        old = records.get(rid)
        if old is None:
            raise record_not_found()
        merged = rr.editable_view(old)
        merged.update(body)
        if "type" in body and body["type"] != old["type"]:
            # A type change must bring its own value, not inherit the old one.
            for k in ("content", "data", "priority"):
                if k not in body:
                    merged.pop(k, None)
        if old["type"] in rr.DATA_TYPES and "content" in body and "data" not in body:
            merged.pop("content", None)
        fields = self._validate(zone, merged)
        self._check_identical(records, fields, exclude_id=rid)
        return self._replace(records, old, fields)

    @staticmethod
    def _op_delete(records, rid):
        rec = records.pop(rid, None)
        if rec is None:
            raise record_not_found()
        return rec

    def insert_record(self, zone, fields):
        """Store already-built fields as a new record, skipping Cloudflare's checks."""
        return self._store_new(zone.records, fields)

    def create_record(self, zone, body):
        return self._op_create(zone, zone.records, body)

    def put_record(self, zone, rid, body):
        return self._op_put(zone, zone.records, rid, body)

    def patch_record(self, zone, rid, body):
        return self._op_patch(zone, zone.records, rid, body)

    def delete_record(self, zone, rid):
        return self._op_delete(zone.records, rid)

    def batch(self, zone, body):
        """deletes -> patches -> puts -> posts on a copy; commit only if all succeed."""
        if not isinstance(body, dict):
            raise bad_body()
        ops = {}
        for kind in ("deletes", "patches", "puts", "posts"):
            items = body.get(kind, [])
            if items is None:
                items = []
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise bad_body(f"{kind} must be a list of objects.")
            ops[kind] = items
        total = sum(len(v) for v in ops.values())
        limit = self.options["batch_limit"]
        if total > limit:
            raise ApiError(400, BATCH_TOO_LARGE,
                           f"Batch contains {total} operations, exceeding the limit of {limit}.")
        work = copy.deepcopy(zone.records)
        result = {k: [] for k in ops}
        for kind in ("deletes", "patches", "puts", "posts"):
            for idx, item in enumerate(ops[kind]):
                try:
                    if kind == "posts":
                        rec = self._op_create(zone, work, item)
                    else:
                        rid = item.get("id")
                        if not isinstance(rid, str):
                            raise bad_body(f"every entry of {kind} needs an id.")
                        rest = {k: v for k, v in item.items() if k != "id"}
                        if kind == "deletes":
                            rec = self._op_delete(work, rid)
                        elif kind == "patches":
                            rec = self._op_patch(zone, work, rid, rest)
                        else:
                            rec = self._op_put(zone, work, rid, rest)
                except ApiError as err:
                    # Nothing was committed; say which operation failed.
                    err.message = f"{err.message} ({kind}[{idx}])"
                    raise
                result[kind].append(rr.render(rec))
        zone.records = work
        return result

    def list_records(self, zone, query):
        pred = rr.build_filter(query)
        matched = [r for r in zone.records.values() if pred(r)]
        return rr.sort_records(matched, query.get("order", "type"), query.get("direction", "asc"))

    # --- DNSSEC -------------------------------------------------------------------
    def patch_dnssec(self, zone, body):
        if not isinstance(body, dict):
            raise bad_body()
        allowed = ("status", "dnssec_multi_signer", "dnssec_presigned", "dnssec_use_nsec3")
        for key in body:
            if key not in allowed:
                raise invalid_setting(key, "unknown field")
        for key in allowed[1:]:
            if key in body and not isinstance(body[key], bool):
                raise invalid_setting(key, "must be a boolean")
        if "status" in body and body["status"] not in ("active", "disabled"):
            raise invalid_setting("status", "must be active or disabled")
        d = zone.dnssec
        for key in allowed[1:]:
            if key in body:
                d[key] = body[key]
        want = body.get("status")
        if want == "active" and d["status"] in ("disabled", "pending-disabled", "error"):
            # Cloudflare signs at once but reports pending until the parent has the DS.
            d["status"] = "pending"
        elif want == "disabled":
            if d["status"] == "active":
                d["status"] = "pending-disabled"   # until the DS leaves the parent
            elif d["status"] in ("pending", "error"):
                d["status"] = "disabled"
        d["modified_on"] = now_rfc3339()
        return zone.dnssec_view(self.options["dnskey_ttl"])

    def delete_dnssec(self, zone):
        if zone.dnssec["status"] != "disabled":
            raise ApiError(400, DNSSEC_NOT_DISABLED,
                           "DNSSEC must be disabled before its records can be deleted.")
        zone.new_keys()
        zone.dnssec.update({"dnssec_multi_signer": False, "dnssec_presigned": False,
                            "dnssec_use_nsec3": False, "modified_on": now_rfc3339()})
        return ""

    def admin_set_dnssec(self, zone, changes):
        for key, value in changes.items():
            if key == "status":
                if value not in DNSSEC_STATUSES:
                    raise ValueError(f"status must be one of {DNSSEC_STATUSES}")
            elif key in ("dnssec_multi_signer", "dnssec_presigned", "dnssec_use_nsec3"):
                if not isinstance(value, bool):
                    raise ValueError(f"{key} must be a boolean")
            else:
                raise ValueError(f"unknown dnssec field {key!r}")
        zone.dnssec.update(changes)
        zone.dnssec["modified_on"] = now_rfc3339()

    # --- ZSK rollover ---------------------------------------------------------------
    def zsk_rollover(self, zone, step=None, private_key=None):
        """Walk Cloudflare's pre-publish ZSK rollover one step at a time.

        publish:  a new key appears tagged "publish"
        activate: the new key becomes "active", the old active one "retired"
        remove:   the retired key becomes "removed" (dropped from the list
                  unless show_removed_zsk)
        immediate: new key active and old key retired at once (no pre-publish)
        Without a step, the next one in that order is taken. private_key (a
        cryptography EC key) is the new key for publish/immediate, else a
        fresh one (tests use it to make a key with a chosen key tag).
        """
        tags = [z.tag for z in zone.zsks]
        if step is None:
            if "publish" in tags:
                step = "activate"
            elif "retired" in tags:
                step = "remove"
            else:
                step = "publish"
        if step == "publish":
            if "publish" in tags:
                raise ValueError("a published key is already waiting")
            zone.zsks.append(Zsk(DnssecKey(FLAGS_ZSK, private_key), "publish"))
        elif step == "activate":
            new = [z for z in zone.zsks if z.tag == "publish"]
            if not new:
                raise ValueError("no published key to activate")
            for z in zone.zsks:
                if z.tag == "active":
                    z.tag = "retired"
            new[0].tag = "active"
        elif step == "remove":
            old = [z for z in zone.zsks if z.tag == "retired"]
            if not old:
                raise ValueError("no retired key to remove")
            for z in old:
                z.tag = "removed"
        elif step == "immediate":
            for z in zone.zsks:
                if z.tag == "active":
                    z.tag = "retired"
            zone.zsks.append(Zsk(DnssecKey(FLAGS_ZSK, private_key), "active"))
        else:
            raise ValueError("step must be publish, activate, remove or immediate")
        return step

    def add_raw_zsk(self, zone, spec):
        """List a ZSK entry of exactly these DNSKEY fields (no real key behind
        it): what a faulty Cloudflare could list. Returns its key tag."""
        tag = spec.get("tag", "publish")
        if tag not in ZSK_TAGS:
            raise ValueError(f"tag must be one of {ZSK_TAGS}")
        unknown = set(spec) - {"tag", "flags", "algorithm", "protocol", "public_key"}
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")
        key = RawKey(spec.get("flags", FLAGS_ZSK), spec.get("algorithm", 13),
                     spec.get("public_key", ""), spec.get("protocol", 3))
        zone.zsks.append(Zsk(key, tag))
        return key.key_tag

    def set_zsk_tag(self, zone, key_tag, tag):
        if tag not in ZSK_TAGS:
            raise ValueError(f"tag must be one of {ZSK_TAGS}")
        found = [z for z in zone.zsks if z.key.key_tag == key_tag]
        if len(found) != 1:
            raise ValueError(f"no unique ZSK with key tag {key_tag}")
        found[0].tag = tag

    def keys_view(self, zone):
        ttl = self.options["dnskey_ttl"]
        out = {"ksk": zone.ksk.describe(zone.name, ttl), "zsks": []}
        for z in zone.zsks:
            entry = z.key.describe(zone.name, ttl)
            entry["tag"] = z.tag
            out["zsks"].append(entry)
        return out

    # --- DNS settings ------------------------------------------------------------
    def patch_dns_settings(self, zone, body):
        if not isinstance(body, dict):
            raise bad_body()
        new = copy.deepcopy(zone.dns_settings)
        bools = ("flatten_all_cnames", "foundation_dns", "multi_provider", "secondary_overrides")
        for key, value in body.items():
            if key in bools:
                if not isinstance(value, bool):
                    raise invalid_setting(key, "must be a boolean")
                new[key] = value
            elif key == "ns_ttl":
                if not rr.is_integer(value) or not 30 <= value <= 86400:
                    raise invalid_setting(key, "must be an integer between 30 and 86400")
                new[key] = int(value)
            elif key == "zone_mode":
                if value not in ("standard", "cdn_only", "dns_only"):
                    raise invalid_setting(key, "must be standard, cdn_only or dns_only")
                new[key] = value
            elif key == "nameservers":
                if not isinstance(value, dict) or value.get("type") != "cloudflare.standard":
                    raise invalid_setting(key, "type must be cloudflare.standard")
                new[key] = {"type": "cloudflare.standard"}
            elif key == "soa":
                new[key] = self._check_soa(value, new["soa"])
            else:
                raise invalid_setting(key, "unknown setting")
        zone.dns_settings = new
        return copy.deepcopy(new)

    @staticmethod
    def _check_soa(value, current):
        ranges = {"expire": (86400, 2419200), "min_ttl": (60, 86400),
                  "refresh": (600, 86400), "retry": (600, 3600), "ttl": (1800, 3600)}
        if not isinstance(value, dict):
            raise invalid_setting("soa", "must be an object")
        soa = dict(current)
        for key, val in value.items():
            if key in ranges:
                lo, hi = ranges[key]
                if not rr.is_integer(val) or not lo <= val <= hi:
                    raise invalid_setting(f"soa.{key}", f"must be between {lo} and {hi}")
                soa[key] = int(val)
            elif key in ("mname", "rname"):
                if not isinstance(val, str) or not val:
                    raise invalid_setting(f"soa.{key}", "must be a hostname")
                soa[key] = val
            else:
                raise invalid_setting(f"soa.{key}", "unknown field")
        return soa
