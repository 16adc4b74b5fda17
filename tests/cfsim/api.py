"""The Cloudflare API v4 surface: routes, permissions and handlers.

Handlers get a parsed request and the authenticated principal, run under the
store lock, and return (result, result_info, messages).  Everything about
HTTP itself (bodies, headers, TLS, faults, limits) is in server.py.
"""

import copy
import json
import re

from . import auth
from . import records as rr
from .errors import (bad_body, bad_object_id, invalid_param, method_not_allowed,
                     no_route, record_not_found, secondary_read_only)

API_PREFIX = "/client/v4"
ID_RE = re.compile(r"^[0-9a-f]{32}$")

# (pattern, route name, {method: permission})
ROUTES = [
    (r"/user/tokens/verify", "verify", {"GET": None}),
    (r"/zones", "zones", {"GET": "zone_read", "POST": "unsupported"}),
    (r"/zones/(?P<zone>[^/]+)", "zone",
     {"GET": "zone_read", "PATCH": "unsupported", "DELETE": "unsupported"}),
    (r"/zones/(?P<zone>[^/]+)/dns_records", "records", {"GET": "dns_read", "POST": "dns_write"}),
    (r"/zones/(?P<zone>[^/]+)/dns_records/batch", "batch", {"POST": "dns_write"}),
    (r"/zones/(?P<zone>[^/]+)/dns_records/(?P<record>[^/]+)", "record",
     {"GET": "dns_read", "PUT": "dns_write", "PATCH": "dns_write", "DELETE": "dns_write"}),
    (r"/zones/(?P<zone>[^/]+)/dns_settings", "dns_settings",
     {"GET": "dns_settings_read", "PATCH": "dns_settings_write"}),
    (r"/zones/(?P<zone>[^/]+)/dnssec", "dnssec",
     {"GET": "dns_read", "PATCH": "dns_write", "DELETE": "dns_write"}),
    (r"/zones/(?P<zone>[^/]+)/dnssec/zsk", "zsk", {"GET": "dns_read"}),
]
# Routes that write records: counted per zone, refused on secondary zones.
RECORD_WRITES = {("records", "POST"), ("batch", "POST"), ("record", "PUT"), ("record", "PATCH"),
                 ("record", "DELETE")}
COMPILED = [(re.compile("^" + p + "$"), n, m) for p, n, m in ROUTES]


class Route:
    def __init__(self, name, params, permission):
        self.name = name
        self.params = params
        self.permission = permission


def resolve(method, path):
    """Map a request path to a Route or raise 7000 / 7001 / 7003."""
    if not path.startswith(API_PREFIX + "/"):
        raise no_route()
    api_path = path[len(API_PREFIX):]
    for regex, name, methods in COMPILED:
        m = regex.match(api_path)
        if not m:
            continue
        params = m.groupdict()
        # Cloudflare reports a malformed identifier before anything else.
        for value in params.values():
            if not ID_RE.match(value):
                raise bad_object_id(path)
        if method not in methods or methods[method] == "unsupported":
            raise method_not_allowed(method)
        return Route(name, params, methods[method])
    raise no_route()


def parse_json(body):
    if not body:
        raise bad_body()
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise bad_body() from None


def _int_param(query, name, default):
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        try:
            f = float(raw)
        except ValueError:
            raise invalid_param(name, "must be a number") from None
        if not f.is_integer():
            raise invalid_param(name, "must be an integer") from None
        value = int(f)
    return value


def paginate(items, query, default, minimum, maximum):
    page = _int_param(query, "page", 1)
    if page < 1:
        raise invalid_param("page", "must be >= 1")
    per_page = _int_param(query, "per_page", default)
    per_page = max(minimum, min(maximum, per_page))
    total = len(items)
    start = (page - 1) * per_page
    chunk = items[start:start + per_page]
    info = {"page": page, "per_page": per_page, "count": len(chunk), "total_count": total,
            "total_pages": max(1, -(-total // per_page))}
    return chunk, info


class CloudflareApi:
    def __init__(self, store):
        self.store = store

    def handle(self, route, req, principal):
        """Run a route's handler; caller holds the store lock."""
        zone = None
        if "zone" in route.params:
            zone = self.store.zones.get(route.params["zone"])
            if zone is None or not principal.sees_zone(zone.name):
                raise bad_object_id(req.path)
        writes = (route.name, req.method) in RECORD_WRITES
        if writes:
            zone.write_attempts += 1
        if route.permission and not principal.may(route.permission,
                                                  zone.name if zone else None):
            raise auth.forbid(self.store)
        if writes and zone.type == "secondary":
            style = self.store.options["validation_error_style"]
            raise secondary_read_only(zone.name).to_api_error(style)
        handler = getattr(self, f"do_{route.name}_{req.method.lower()}")
        return handler(req, principal, zone, route.params)

    # --- zones -------------------------------------------------------------------
    def do_zones_get(self, req, principal, zone, params):
        q = req.query
        conds = []
        if "name" in q:
            conds.append(_zone_name_filter(q["name"]))
        if "status" in q:
            if q["status"] not in ("initializing", "pending", "active", "moved"):
                raise invalid_param("status", "unknown zone status")
            conds.append(lambda z, s=q["status"]: z.status == s)
        if "account.id" in q:
            conds.append(lambda z, a=q["account.id"]: a == z.view()["account"]["id"])
        if "account.name" in q:
            test = _zone_name_filter(q["account.name"])
            conds.append(lambda z, t=test: t(_Named(z.view()["account"]["name"])))
        match = q.get("match", "all")
        if match not in ("all", "any"):
            raise invalid_param("match", "must be all or any")
        combine = all if match == "all" else any
        zones = [z for z in self._zone_candidates(q, match) if principal.sees_zone(z.name)
                 and (not conds or combine(c(z) for c in conds))]
        order = q.get("order", "name")
        keys = {"name": lambda z: z.name, "status": lambda z: z.status,
                "account.id": lambda z: z.view()["account"]["id"],
                "account.name": lambda z: z.view()["account"]["name"]}
        if order not in keys:
            raise invalid_param("order", "must be name, status, account.id or account.name")
        direction = q.get("direction", "asc")
        if direction not in ("asc", "desc"):
            raise invalid_param("direction", "must be asc or desc")
        zones.sort(key=lambda z: (keys[order](z), z.created_on, z.id),
                   reverse=direction == "desc")
        o = self.store.options
        chunk, info = paginate(zones, q, o["zones_per_page"], o["zones_min_per_page"],
                               o["zones_max_per_page"])
        return [z.view() for z in chunk], info, []

    def _zone_candidates(self, q, match):
        """The zones a list can match: by the name index when all filters must
        hold and one is an exact name (the per-zone look-up a client makes),
        else all of them. The filters are still applied to the candidates."""
        exact = _exact_zone_name(q.get("name")) if match == "all" else None
        if exact is None:
            return self.store.zones.values()
        zone = self.store.zone_by_name(exact)
        return [zone] if zone is not None else []

    def do_zone_get(self, req, principal, zone, params):
        return zone.view(), None, []

    # --- records -----------------------------------------------------------------
    def do_records_get(self, req, principal, zone, params):
        items = self.store.list_records(zone, req.query)
        o = self.store.options
        chunk, info = paginate(items, req.query, o["records_per_page"], 1,
                               o["records_max_per_page"])
        return [rr.render(r) for r in chunk], info, []

    def do_records_post(self, req, principal, zone, params):
        return rr.render(self.store.create_record(zone, parse_json(req.body))), None, []

    def do_batch_post(self, req, principal, zone, params):
        return self.store.batch(zone, parse_json(req.body)), None, []

    def do_record_get(self, req, principal, zone, params):
        rec = zone.records.get(params["record"])
        if rec is None:
            raise record_not_found()
        return rr.render(rec), None, []

    def do_record_put(self, req, principal, zone, params):
        body = parse_json(req.body)
        return rr.render(self.store.put_record(zone, params["record"], body)), None, []

    def do_record_patch(self, req, principal, zone, params):
        body = parse_json(req.body)
        return rr.render(self.store.patch_record(zone, params["record"], body)), None, []

    def do_record_delete(self, req, principal, zone, params):
        # Cloudflare's DELETE may carry an (ignored) JSON body; don't parse it.
        rec = self.store.delete_record(zone, params["record"])
        return {"id": rec["id"]}, None, []

    # --- DNS settings --------------------------------------------------------------
    def do_dns_settings_get(self, req, principal, zone, params):
        return copy.deepcopy(zone.dns_settings), None, []

    def do_dns_settings_patch(self, req, principal, zone, params):
        return self.store.patch_dns_settings(zone, parse_json(req.body)), None, []

    # --- DNSSEC ---------------------------------------------------------------------
    def do_dnssec_get(self, req, principal, zone, params):
        return zone.dnssec_view(self.store.options["dnskey_ttl"]), None, []

    def do_dnssec_patch(self, req, principal, zone, params):
        return self.store.patch_dnssec(zone, parse_json(req.body)), None, []

    def do_dnssec_delete(self, req, principal, zone, params):
        return self.store.delete_dnssec(zone), None, []

    def do_zsk_get(self, req, principal, zone, params):
        o = self.store.options
        return zone.zsk_list(o["dnskey_ttl"], o["show_removed_zsk"]), None, []


class _Named:
    def __init__(self, name):
        self.name = name


def _exact_zone_name(value):
    """The lower-case name an exact (case-insensitive) name filter asks for,
    or None for any other filter."""
    if value is None:
        return None
    op, sep, arg = value.partition(":")
    if sep and op == "equal":
        return arg.lower()
    if sep and op in _ZONE_NAME_OPS:
        return None
    return value.lower()


_ZONE_NAME_OPS = ("equal", "not_equal", "starts_with", "ends_with", "contains",
                  "starts_with_case_sensitive", "ends_with_case_sensitive",
                  "contains_case_sensitive")


def _zone_name_filter(value):
    """Zone name filter with Cloudflare's operator prefixes (contains:, ...)."""
    op, sep, arg = value.partition(":")
    if not sep or op not in _ZONE_NAME_OPS:
        op, arg = "equal", value
    sensitive = op.endswith("_case_sensitive")
    base = op.replace("_case_sensitive", "")
    if not sensitive:
        arg = arg.lower()

    def norm(name):
        return name if sensitive else name.lower()

    tests = {
        "equal": lambda n: norm(n) == arg,
        "not_equal": lambda n: norm(n) != arg,
        "starts_with": lambda n: norm(n).startswith(arg),
        "ends_with": lambda n: norm(n).endswith(arg),
        "contains": lambda n: arg in norm(n),
    }
    test = tests[base]
    return lambda z: test(z.name)
