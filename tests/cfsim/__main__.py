"""Run the simulator as a process.

    cd tests && /usr/bin/python3 -m cfsim --port 0 --tls --token T --ready-file /tmp/r.json

When listening, the ready file (written atomically) and one stdout line hold
JSON: {"pid", "host", "port", "scheme", "base_url", "root_url", "admin_url",
"ca_file", "zones": [{"id", "name"}]}.  SIGTERM / SIGINT stop it cleanly.
"""

import argparse
import json
import os
import signal
import sys
import threading

from .server import DEFAULT_EMAIL, DEFAULT_KEY, Simulator
from .state import PERMISSIONS


def parse_token(text):
    """TOKEN or TOKEN=perm1,perm2 (permissions from state.PERMISSIONS)."""
    value, sep, perms = text.partition("=")
    if not sep:
        return value
    chosen = [p for p in perms.split(",") if p]
    bad = [p for p in chosen if p not in PERMISSIONS]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown permission(s) {bad}; known: {PERMISSIONS}")
    return {"token": value, "permissions": chosen}


def main(argv=None):
    p = argparse.ArgumentParser(prog="cfsim", description="Cloudflare API v4 simulator")
    p.add_argument("--host", default="127.0.0.1", help="loopback address (127.0.0.1 or ::1)")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--tls", action="store_true", help="serve HTTPS with a throwaway CA")
    p.add_argument("--cert-dir", help="where to write ca.pem/server.pem (default: temp dir)")
    p.add_argument("--token", action="append", type=parse_token, default=None,
                   help="accepted bearer token, optionally TOKEN=perm,perm (repeatable)")
    p.add_argument("--email", default=DEFAULT_EMAIL, help="legacy X-Auth-Email")
    p.add_argument("--key", default=DEFAULT_KEY, help="legacy X-Auth-Key")
    p.add_argument("--zone", action="append", default=[], help="zone to create (repeatable)")
    p.add_argument("--page-size", type=int, help="default per_page for dns_records")
    p.add_argument("--max-per-page", type=int, help="largest per_page honoured for dns_records")
    p.add_argument("--rate-limit", type=int, default=1200, help="requests per window")
    p.add_argument("--rate-window", type=float, default=300, help="window in seconds")
    p.add_argument("--rate-block", type=float, default=None,
                   help="seconds blocked once tripped (default: the window; 0: no block)")
    p.add_argument("--option", action="append", default=[],
                   help="simulator option NAME=JSON, e.g. show_removed_zsk=true")
    p.add_argument("--ready-file", help="write the listening details here as JSON")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)

    options = {}
    if args.page_size is not None:
        options["records_per_page"] = args.page_size
    if args.max_per_page is not None:
        options["records_max_per_page"] = args.max_per_page
    for item in args.option:
        name, sep, value = item.partition("=")
        if not sep:
            p.error(f"--option needs NAME=VALUE, got {item!r}")
        try:
            options[name] = json.loads(value)
        except ValueError:
            options[name] = value

    sim = Simulator(host=args.host, port=args.port, tls=args.tls, cert_dir=args.cert_dir,
                    tokens=args.token, legacy=[(args.email, args.key)], options=options,
                    rate_limit={"limit": args.rate_limit, "window": args.rate_window,
                                "block_seconds": args.rate_block},
                    zones=args.zone, verbose=args.verbose)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    sim.start()
    try:
        info = sim.describe()
        info["pid"] = os.getpid()
        with sim.store.lock:
            info["zones"] = [{"id": z.id, "name": z.name} for z in sim.store.zones.values()]
        line = json.dumps(info)
        if args.ready_file:
            tmp = args.ready_file + ".tmp"
            with open(tmp, "w") as fh:
                fh.write(line + "\n")
            os.replace(tmp, args.ready_file)
        print(line, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
