"""The test-control API under /__admin/ (never a Cloudflare path, no auth).

Plain JSON in and out.  Errors are {"error": "..."} with HTTP 400/404.  Admin
calls are not logged, not rate-limited and never hit by faults.
"""

import json
import re

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from . import records as rr
from .errors import ApiError
from .faults import FAULT_KINDS

ADMIN_PREFIX = "/__admin"


class AdminError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class AdminApi:
    def __init__(self, sim):
        self.sim = sim
        self.store = sim.store
        routes = [
            ("GET", r"/health", self.health),
            ("GET", r"/notify", self.notify),
            ("GET", r"/config", self.get_config),
            ("PATCH", r"/config", self.set_config),
            ("POST", r"/config", self.set_config),
            ("GET", r"/ratelimit", self.get_ratelimit),
            ("POST", r"/ratelimit", self.set_ratelimit),
            ("POST", r"/ratelimit/reset", self.reset_ratelimit),
            ("POST", r"/reset", self.reset),
            ("GET", r"/zones", self.list_zones),
            ("POST", r"/zones", self.create_zone),
            ("GET", r"/zones/(?P<zone>[^/]+)", self.get_zone),
            ("PATCH", r"/zones/(?P<zone>[^/]+)", self.patch_zone),
            ("DELETE", r"/zones/(?P<zone>[^/]+)", self.delete_zone),
            ("GET", r"/zones/(?P<zone>[^/]+)/records", self.list_records),
            ("POST", r"/zones/(?P<zone>[^/]+)/records", self.add_record),
            ("DELETE", r"/zones/(?P<zone>[^/]+)/records", self.clear_records),
            ("PATCH", r"/zones/(?P<zone>[^/]+)/records/(?P<record>[^/]+)", self.patch_record),
            ("DELETE", r"/zones/(?P<zone>[^/]+)/records/(?P<record>[^/]+)", self.delete_record),
            ("PATCH", r"/zones/(?P<zone>[^/]+)/dnssec", self.set_dnssec),
            ("POST", r"/zones/(?P<zone>[^/]+)/dnssec", self.set_dnssec),
            ("PATCH", r"/zones/(?P<zone>[^/]+)/dns_settings", self.set_dns_settings),
            ("GET", r"/zones/(?P<zone>[^/]+)/keys", self.get_keys),
            ("POST", r"/zones/(?P<zone>[^/]+)/zsk", self.add_raw_zsk),
            ("POST", r"/zones/(?P<zone>[^/]+)/zsk/rollover", self.zsk_rollover),
            ("POST", r"/zones/(?P<zone>[^/]+)/zsk/(?P<tag>[0-9]+)", self.set_zsk_tag),
            ("GET", r"/zones/(?P<zone>[^/]+)/served", self.served),
            ("PATCH", r"/zones/(?P<zone>[^/]+)/secondary", self.set_secondary),
            ("POST", r"/zones/(?P<zone>[^/]+)/secondary/pull", self.pull),
            ("GET", r"/tokens", self.list_tokens),
            ("POST", r"/tokens", self.add_token),
            ("POST", r"/tokens/revoke", self.revoke_token),
            ("POST", r"/tokens/update", self.update_token),
            ("POST", r"/legacy", self.add_legacy),
            ("GET", r"/faults", self.list_faults),
            ("POST", r"/faults", self.add_fault),
            ("DELETE", r"/faults", self.clear_faults),
            ("DELETE", r"/faults/(?P<fid>[0-9]+)", self.delete_fault),
            ("POST", r"/triggers", self.add_trigger),
            ("GET", r"/log", self.get_log),
            ("GET", r"/in_flight", self.get_in_flight),
            ("DELETE", r"/log", self.clear_log),
            ("GET", r"/served", self.served_all),
            ("GET", r"/counters", self.get_counters),
            ("DELETE", r"/counters", self.clear_counters),
        ]
        self.routes = [(m, re.compile("^" + p + "$"), fn) for m, p, fn in routes]

    def handle(self, method, path, query, body):
        sub = path[len(ADMIN_PREFIX):] or "/"
        data = {}
        if body:
            try:
                data = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return 400, {"error": "body is not JSON"}
            if not isinstance(data, dict):
                return 400, {"error": "body must be a JSON object"}
        known_path = False
        for m, regex, fn in self.routes:
            match = regex.match(sub)
            if not match:
                continue
            known_path = True
            if m != method:
                continue
            try:
                with self.store.lock:
                    out = fn(data, query, **match.groupdict())
                if fn == self.pull:
                    # The transfer runs outside the lock, as one from a NOTIFY does.
                    ok = self.sim.transfers.pull(out["id"])
                    with self.store.lock:
                        out = dict(self.store.zones[out["id"]].secondary_view(), ok=ok)
                return 200, out
            except AdminError as err:
                return err.status, {"error": err.message}
            except ApiError as err:
                return 400, {"error": err.message, "errors": err.errors()}
            except (ValueError, TypeError, KeyError) as err:
                return 400, {"error": str(err)}
        if known_path:
            return 405, {"error": f"method {method} not allowed here"}
        return 404, {"error": f"no admin route {sub}"}

    # --- helpers ---------------------------------------------------------------
    def _zone(self, zone):
        z = self.store.zones.get(zone) or self.store.zone_by_name(zone.rstrip(".").lower())
        if z is None:
            raise AdminError(404, f"no zone {zone}")
        return z

    def _zone_summary(self, z):
        view = z.view()
        view["dnssec"] = z.dnssec_view(self.store.options["dnskey_ttl"])
        view["dns_settings"] = z.dns_settings
        view["write_attempts"] = z.write_attempts
        if z.type == "secondary":
            view["secondary"] = z.secondary_view()
        return view

    # --- general ---------------------------------------------------------------
    def health(self, data, query):
        return {"ok": True}

    def notify(self, data, query):
        return {"host": self.sim.host, "port": self.sim.transfers.notify_port}

    def get_config(self, data, query):
        return {"options": dict(self.store.options), "ratelimit": self.sim.limiter.describe(),
                "fault_kinds": FAULT_KINDS}

    def set_config(self, data, query):
        self.store.set_options(data)
        return {"options": dict(self.store.options)}

    def get_ratelimit(self, data, query):
        return self.sim.limiter.describe()

    def set_ratelimit(self, data, query):
        self.sim.limiter.configure(data.get("limit"), data.get("window"),
                                   data.get("block_seconds"), data.get("count_rejected"))
        return self.sim.limiter.describe()

    def reset_ratelimit(self, data, query):
        with self.sim.limiter.lock:
            self.sim.limiter.reset_counters()
        return self.sim.limiter.describe()

    def reset(self, data, query):
        self.sim.reset()
        return {"ok": True}

    # --- zones -----------------------------------------------------------------
    def _page(self, query):
        """The zones of one page, in creation order, and the paging info.
        Without page or per_page: all zones on one page."""
        zones = list(self.store.zones.values())
        total = len(zones)
        if "page" not in query and "per_page" not in query:
            return zones, {"page": 1, "per_page": total, "total_count": total,
                           "total_pages": 1}
        try:
            page = int(query.get("page", 1))
            per_page = int(query.get("per_page", 100))
        except ValueError:
            raise AdminError(400, "page and per_page must be integers") from None
        if page < 1 or not 1 <= per_page <= 10000:
            raise AdminError(400, "page must be >= 1 and per_page 1..10000")
        chunk = zones[(page - 1) * per_page:page * per_page]
        return chunk, {"page": page, "per_page": per_page, "total_count": total,
                       "total_pages": max(1, -(-total // per_page))}

    def list_zones(self, data, query):
        chunk, info = self._page(query)
        return {"zones": [self._zone_summary(z) for z in chunk], "result_info": info}

    def create_zone(self, data, query):
        if "name" not in data:
            raise AdminError(400, "name is required")
        z = self.store.create_zone(
            data["name"], data.get("type", "full"), data.get("status", "active"),
            data.get("name_servers"), data.get("id"), data.get("dnssec"),
            data.get("dns_settings"), data.get("primary"))
        return self._zone_summary(z)

    def get_zone(self, data, query, zone):
        return self._zone_summary(self._zone(zone))

    def patch_zone(self, data, query, zone):
        z = self._zone(zone)
        for key, value in data.items():
            if key == "status":
                z.status = value
            elif key == "name_servers":
                z.name_servers = list(value)
            elif key == "type":
                z.type = value
            else:
                raise AdminError(400, f"cannot set zone field {key}")
        return self._zone_summary(z)

    def delete_zone(self, data, query, zone):
        z = self._zone(zone)
        self.store.delete_zone(z)
        return {"id": z.id}

    # --- records, behind the client's back -------------------------------------
    def list_records(self, data, query, zone):
        z = self._zone(zone)
        recs = sorted(z.records.values(), key=lambda r: r["_seq"])
        return {"records": [rr.render(r) for r in recs]}

    def add_record(self, data, query, zone):
        """Add a record; validate=false skips Cloudflare's checks (e.g. DNSKEY
        without multi-signer) but still normalises the fields."""
        z = self._zone(zone)
        body = dict(data)
        validate = body.pop("validate", True)
        if validate:
            return rr.render(self.store.create_record(z, body))
        opts = dict(self.store.options, tags_quota=10 ** 6, comment_max=10 ** 6)
        view = rr.ZoneView(z.name, True, opts)
        fields = rr.build_record(body, view)
        return rr.render(self.store.insert_record(z, fields))

    def clear_records(self, data, query, zone):
        z = self._zone(zone)
        n = len(z.records)
        z.records = {}
        return {"deleted": n}

    def patch_record(self, data, query, zone, record):
        """Overwrite stored fields directly (no validation), e.g. a comment."""
        z = self._zone(zone)
        rec = z.records.get(record)
        if rec is None:
            raise AdminError(404, f"no record {record}")
        for key, value in data.items():
            if key in ("id", "created_on") or key.startswith("_"):
                raise AdminError(400, f"cannot set {key}")
            rec[key] = value
        return rr.render(rec)

    def delete_record(self, data, query, zone, record):
        z = self._zone(zone)
        if z.records.pop(record, None) is None:
            raise AdminError(404, f"no record {record}")
        return {"id": record}

    # --- DNSSEC and keys ----------------------------------------------------------
    def set_dnssec(self, data, query, zone):
        z = self._zone(zone)
        self.store.admin_set_dnssec(z, data)
        return z.dnssec_view(self.store.options["dnskey_ttl"])

    def set_dns_settings(self, data, query, zone):
        z = self._zone(zone)
        return self.store.patch_dns_settings(z, data)

    def get_keys(self, data, query, zone):
        return self.store.keys_view(self._zone(zone))

    def zsk_rollover(self, data, query, zone):
        z = self._zone(zone)
        key = None
        if data.get("private_key_pem") is not None:
            try:
                key = load_pem_private_key(data["private_key_pem"].encode("ascii"), None)
            except (ValueError, TypeError, UnicodeError) as e:
                raise AdminError(400, f"private_key_pem: {e}") from None
            if not isinstance(key, ec.EllipticCurvePrivateKey) or \
                    not isinstance(key.curve, ec.SECP256R1):
                raise AdminError(400, "private_key_pem: not a P-256 key")
        step = self.store.zsk_rollover(z, data.get("step"), key)
        out = self.store.keys_view(z)
        out["step"] = step
        return out

    def add_raw_zsk(self, data, query, zone):
        z = self._zone(zone)
        tag = self.store.add_raw_zsk(z, data)
        out = self.store.keys_view(z)
        out["key_tag"] = tag
        return out

    def set_zsk_tag(self, data, query, zone, tag):
        z = self._zone(zone)
        self.store.set_zsk_tag(z, int(tag), data.get("tag"))
        return self.store.keys_view(z)

    def _served(self, z):
        ttl = self.store.options["dnskey_ttl"]
        return {"dnskey": z.served_dnskeys(ttl), "ns": z.served_ns(),
                "dnssec_status": z.dnssec["status"]}

    def served(self, data, query, zone):
        return self._served(self._zone(zone))

    def served_all(self, data, query):
        chunk, info = self._page(query)
        return {"zones": [{"id": z.id, "name": z.name, **self._served(z)} for z in chunk],
                "result_info": info}

    # --- secondary zones ---------------------------------------------------------
    def set_secondary(self, data, query, zone):
        z = self._zone(zone)
        unknown = set(data) - {"primary", "transfers_paused"}
        if unknown:
            raise AdminError(400, f"cannot set {sorted(unknown)}")
        self.store.set_secondary(z, data.get("primary"), data.get("transfers_paused"))
        return z.secondary_view()

    def pull(self, data, query, zone):
        """Transfer now (outside the store lock), as on a NOTIFY or a refresh."""
        z = self._zone(zone)
        if z.type != "secondary" or z.primary is None:
            raise AdminError(400, f"zone {z.name} is not a secondary zone with a primary")
        return {"id": z.id}

    # --- credentials -----------------------------------------------------------
    def list_tokens(self, data, query):
        return {"tokens": [t.describe() for t in self.store.tokens.values()],
                "legacy": sorted(self.store.legacy)}

    def add_token(self, data, query):
        if "token" not in data:
            raise AdminError(400, "token is required")
        kw = {k: data[k] for k in ("permissions", "status", "zones", "not_before", "expires_on")
              if k in data}
        return self.store.add_token(data["token"], **kw).describe()

    def revoke_token(self, data, query):
        tok = self.store.tokens.pop(data.get("token"), None)
        if tok is None:
            raise AdminError(404, "no such token")
        return {"id": tok.id, "revoked": True}

    def update_token(self, data, query):
        tok = self.store.tokens.get(data.get("token"))
        if tok is None:
            raise AdminError(404, "no such token")
        if "status" in data:
            if data["status"] not in ("active", "disabled", "expired"):
                raise AdminError(400, "status must be active, disabled or expired")
            tok.status = data["status"]
        if "permissions" in data:
            tok.permissions = set(data["permissions"])
        if "zones" in data:
            tok.zones = None if data["zones"] is None else {z.lower() for z in data["zones"]}
        for key in ("not_before", "expires_on"):
            if key in data:
                setattr(tok, key, data[key])
        return tok.describe()

    def add_legacy(self, data, query):
        if not data.get("email") or not data.get("key"):
            raise AdminError(400, "email and key are required")
        self.store.add_legacy(data["email"], data["key"])
        return {"email": data["email"].lower()}

    # --- faults, triggers, log ---------------------------------------------------
    def list_faults(self, data, query):
        return self.sim.faults.describe()

    def add_fault(self, data, query):
        return self.sim.faults.add_fault(data).describe()

    def clear_faults(self, data, query):
        self.sim.faults.clear()
        return {"ok": True}

    def delete_fault(self, data, query, fid):
        if not self.sim.faults.remove(int(fid)):
            raise AdminError(404, f"no fault {fid}")
        return {"ok": True}

    def add_trigger(self, data, query):
        trig = self.sim.faults.add_trigger(data)
        return trig.describe()

    def get_log(self, data, query):
        since = int(query.get("since", 0))
        return {"entries": self.sim.log.entries(since)}

    def get_in_flight(self, data, query):
        return {"requests": self.sim.requests_in_flight()}

    def clear_log(self, data, query):
        self.sim.log.clear()
        return {"ok": True}

    def get_counters(self, data, query):
        return self.sim.counters.describe()

    def clear_counters(self, data, query):
        self.sim.counters.reset()
        return {"ok": True}
