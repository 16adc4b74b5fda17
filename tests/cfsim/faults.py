"""Injected faults and scripted state changes ("triggers") for API requests.

A fault replaces (or delays) the response to matching requests: for the next
`count` matches, for `duration` seconds, or until cleared.  A trigger runs an
admin action right after the `after`-th matching request has been answered,
e.g. to add a record between two page requests of a listing.
"""

import re
import threading
import time

FAULT_KINDS = {
    "status":         "HTTP status with a Cloudflare error envelope",
    "delay":          "sleep `delay` seconds, then answer normally",
    "malformed_json": "200 with a body that is not JSON",
    "truncated":      "Content-Length promises more than is sent, then the connection closes",
    "html":           "an HTML error page (default 502), as Cloudflare's edge sends",
    "wrong_types":    "the real answer with numbers/booleans turned into strings",
    "oversized":      "a valid JSON envelope of `size` bytes (default 16 MiB)",
    "empty":          "200 with an empty body",
    "drop":           "close the connection without answering",
    "reset":          "reset the connection (RST) without answering",
}
# Kinds whose answer is derived from the real one: the request is processed.
PROCESSING_KINDS = ("delay", "wrong_types")
MAX_DELAY = 120.0


class _Matcher:
    def __init__(self, spec):
        method = spec.get("method")
        path = spec.get("path")
        self.method_text = method
        self.path_text = path
        self.method = re.compile(method, re.I) if method else None
        self.path = re.compile(path) if path else None
        count = spec.get("count")
        duration = spec.get("duration")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise ValueError("count must be a positive integer")
        if duration is not None and (not isinstance(duration, (int, float)) or duration <= 0):
            raise ValueError("duration must be a positive number of seconds")
        self.remaining = count
        self.until = None if duration is None else time.monotonic() + duration

    def expired(self, now):
        return (self.remaining is not None and self.remaining <= 0) or \
            (self.until is not None and now >= self.until)

    def matches(self, method, path):
        if self.method and not self.method.fullmatch(method):
            return False
        return not self.path or bool(self.path.search(path))


class Fault(_Matcher):
    def __init__(self, fid, spec):
        super().__init__(spec)
        kind = spec.get("kind")
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {sorted(FAULT_KINDS)}")
        self.id = fid
        self.kind = kind
        self.status = int(spec.get("status", 502 if kind == "html" else 500))
        # A 429 without an explicit code gets the real rate-limit code/message.
        self.code_given = "code" in spec
        self.code = int(spec.get("code", 10000 if self.status < 500 else 10001))
        self.message = spec.get("message", "Internal server error" if self.status >= 500
                                else "Simulated failure")
        self.delay = float(spec.get("delay", 0))
        if not 0 <= self.delay <= MAX_DELAY:
            raise ValueError(f"delay must be between 0 and {MAX_DELAY}")
        self.size = int(spec.get("size", 16 * 1024 * 1024))
        self.headers = {str(k): str(v) for k, v in (spec.get("headers") or {}).items()}
        if spec.get("retry_after") is not None:
            self.headers["retry-after"] = str(spec["retry_after"])
        # apply: process the request for real (state changes) before the fault
        # answer replaces the response: "it went through, the answer got lost".
        self.apply = bool(spec.get("apply", kind in PROCESSING_KINDS))

    def describe(self):
        return {"id": self.id, "kind": self.kind, "method": self.method_text,
                "path": self.path_text, "remaining": self.remaining,
                "status": self.status, "code": self.code, "delay": self.delay,
                "apply": self.apply}


class Trigger(_Matcher):
    ACTIONS = ("add_record", "delete_record", "patch_record", "zsk_rollover", "set_dnssec")

    def __init__(self, tid, spec):
        spec = dict(spec)
        spec.setdefault("count", 1)     # fire once unless told otherwise
        super().__init__(spec)
        action = spec.get("action")
        if not isinstance(action, dict) or action.get("op") not in self.ACTIONS:
            raise ValueError(f"action.op must be one of {self.ACTIONS}")
        after = spec.get("after", 1)
        if not isinstance(after, int) or after < 1:
            raise ValueError("after must be a positive integer")
        self.id = tid
        self.action = action
        self.after = after
        self.seen = 0

    def describe(self):
        return {"id": self.id, "method": self.method_text, "path": self.path_text,
                "after": self.after, "remaining": self.remaining, "action": self.action}


class FaultBook:
    def __init__(self):
        self.lock = threading.Lock()
        self.faults = []
        self.triggers = []
        self.next_id = 1

    def _new_id(self):
        fid = self.next_id
        self.next_id += 1
        return fid

    def add_fault(self, spec):
        with self.lock:
            fault = Fault(self._new_id(), spec)
            self.faults.append(fault)
            return fault

    def add_trigger(self, spec):
        with self.lock:
            trig = Trigger(self._new_id(), spec)
            self.triggers.append(trig)
            return trig

    def take_fault(self, method, path):
        """The first live fault matching this request (consuming one use)."""
        with self.lock:
            now = time.monotonic()
            self.faults = [f for f in self.faults if not f.expired(now)]
            for fault in self.faults:
                if fault.matches(method, path):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault
            return None

    def due_triggers(self, method, path):
        """Triggers that fire after this (answered) request."""
        due = []
        with self.lock:
            now = time.monotonic()
            self.triggers = [t for t in self.triggers if not t.expired(now)]
            for trig in self.triggers:
                if trig.matches(method, path):
                    trig.seen += 1
                    if trig.seen >= trig.after:
                        trig.seen = 0
                        if trig.remaining is not None:
                            trig.remaining -= 1
                        due.append(trig)
            self.triggers = [t for t in self.triggers if not t.expired(now)]
        return due

    def remove(self, fid):
        with self.lock:
            before = len(self.faults) + len(self.triggers)
            self.faults = [f for f in self.faults if f.id != fid]
            self.triggers = [t for t in self.triggers if t.id != fid]
            return before != len(self.faults) + len(self.triggers)

    def clear(self):
        with self.lock:
            self.faults = []
            self.triggers = []

    def describe(self):
        with self.lock:
            return {"faults": [f.describe() for f in self.faults],
                    "triggers": [t.describe() for t in self.triggers]}
