"""cfsim: a strict, stateful Cloudflare API v4 simulator for tests.

    from cfsim import Simulator
    with Simulator(tls=True) as sim:
        sim.base_url, sim.ca_file, sim.admin_url

See doc/cfsim.md for the endpoints, the admin API and the fault kinds.
"""

from .server import DEFAULT_EMAIL, DEFAULT_KEY, DEFAULT_TOKEN, Simulator

__all__ = ["Simulator", "DEFAULT_TOKEN", "DEFAULT_EMAIL", "DEFAULT_KEY"]
