"""Per-zone request counters: what a benchmark reads instead of the request log.

The log keeps only the last LOG_MAX entries; these counters are complete and
cost one dictionary update per request.  Each API request is counted once,
when it is logged, under the zone it concerns: the zone id in its path, or
the exact name a GET /zones?name=... looks up.  Requests about no zone (token
verification, other zone lists) count under the empty name.
"""

import re
import threading
import time

_ZONE_PATH = re.compile(r"^/client/v4/zones/([0-9a-f]{32})(?:/|$)")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
FIELDS = ("requests", "reads", "writes", "rate_limited", "failed")


def _blank():
    return dict.fromkeys(FIELDS, 0)


class RequestCounters:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.since = time.time()
            self.total = _blank()
            self.zones = {}

    @staticmethod
    def zone_of(entry, store):
        """The name of the zone a logged request concerns, or ''."""
        m = _ZONE_PATH.match(entry["path"])
        if m:
            zone = store.zones.get(m.group(1))
            return zone.name if zone is not None else ""
        if entry["path"] == "/client/v4/zones":
            name = entry["query"].get("name", "")
            op, sep, arg = name.partition(":")
            name = arg if sep and op == "equal" else name
            zone = store.zone_by_name(name.lower()) if name else None
            return zone.name if zone is not None else ""
        return ""

    def add(self, entry, store):
        name = self.zone_of(entry, store)
        write = entry["method"] in WRITE_METHODS
        status = entry.get("status")
        limited = bool(entry.get("rate_limited")) or status == 429
        failed = not limited and (status is None or status >= 400)
        with self.lock:
            for c in (self.total, self.zones.setdefault(name, _blank())):
                c["requests"] += 1
                c["writes" if write else "reads"] += 1
                c["rate_limited"] += limited
                c["failed"] += failed

    def describe(self):
        with self.lock:
            return {"since": self.since, "total": dict(self.total),
                    "zones": {k: dict(v) for k, v in self.zones.items()}}
