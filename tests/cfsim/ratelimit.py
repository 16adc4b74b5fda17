"""Cloudflare's per-credential API rate limit (1,200 requests per 300 s).

A sliding window per credential.  Once the limit trips, the credential is
blocked for `block_seconds` (the docs: "all calls are blocked for the next
five minutes"); with count_rejected the refused calls still fill the window,
so a client that keeps hammering stays blocked, as with the real service.
"""

import collections
import math
import threading
import time


class RateLimiter:
    def __init__(self, limit=1200, window=300.0, block_seconds=None, count_rejected=True,
                 clock=time.monotonic):
        self.lock = threading.Lock()
        self.clock = clock
        self.configure(limit, window, block_seconds, count_rejected)

    def configure(self, limit=None, window=None, block_seconds=None, count_rejected=None):
        with self.lock:
            if limit is not None:
                if limit < 1:
                    raise ValueError("limit must be >= 1")
                self.limit = int(limit)
            if window is not None:
                if window <= 0:
                    raise ValueError("window must be > 0")
                self.window = float(window)
            # None means "as long as the window", 0 disables blocking.
            self.block_seconds = self.window if block_seconds is None else float(block_seconds)
            if count_rejected is not None:
                self.count_rejected = bool(count_rejected)
            self.reset_counters()

    def reset_counters(self):
        self.hits = {}            # key -> deque of request times
        self.blocked_until = {}   # key -> time

    def describe(self):
        return {"limit": self.limit, "window": self.window,
                "block_seconds": self.block_seconds, "count_rejected": self.count_rejected}

    def check(self, key):
        """Count one request; return (allowed, headers)."""
        with self.lock:
            now = self.clock()
            hits = self.hits.get(key)
            if hits is None or hits.maxlen != self.limit:
                hits = self.hits[key] = collections.deque(hits or (), maxlen=self.limit)
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            until = self.blocked_until.get(key, 0.0)
            if until > now:
                if self.count_rejected:
                    hits.append(now)
                return False, self._headers(0, until - now, retry=until - now)
            if len(hits) >= self.limit:
                if self.count_rejected:
                    hits.append(now)
                if self.block_seconds > 0:
                    until = now + self.block_seconds
                    self.blocked_until[key] = until
                    wait = until - now
                else:
                    wait = hits[0] + self.window - now
                return False, self._headers(0, wait, retry=wait)
            hits.append(now)
            reset = hits[0] + self.window - now
            return True, self._headers(self.limit - len(hits), reset)

    @staticmethod
    def _seconds(value):
        # Whole seconds, rounding up, but without float noise turning 300 into 301.
        return str(max(1, math.ceil(round(value, 3))))

    def _headers(self, remaining, reset, retry=None):
        headers = {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(max(0, remaining)),
            "x-ratelimit-reset": self._seconds(reset),
        }
        if retry is not None:
            headers["retry-after"] = self._seconds(retry)
        return headers

    def message(self):
        window = int(self.window) if float(self.window).is_integer() else self.window
        return (f"More than {self.limit} requests per {window} seconds reached. "
                "Please wait and consider throttling your request speed")
