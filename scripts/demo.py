"""Demo: a real knotd on a loopback port, signing a zone with ECDSA P-256, with
mod-multisigner loaded. Prints what the module logged and what knotd serves.
Later stages of the project extend this with the Cloudflare simulator."""
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

from knot_instance import KnotInstance, wait_until  # noqa: E402

ZONE = "example.com"


def show(title, rrset):
    print(f"\n{title}")
    for line in rrset.to_text().splitlines():
        print("  " + line)


def main():
    module_so = os.path.abspath(os.path.join(HERE, "..", "multisigner.so"))
    with tempfile.TemporaryDirectory(prefix="ms-demo-") as tmp:
        knot = KnotInstance(tmp, module_so)
        token = knot.write_secret("cloudflare.token", "demo-token\n")
        knot.add_module_section("cf", api_url="http://127.0.0.1:9/client/v4",
                                api_token_file=token,
                                nameserver=["ns1.example.net", "ns2.example.net"])
        knot.add_zone(ZONE)
        try:
            knot.start()
            knot.wait_log("syncing with Cloudflare at")
            print(f"knotd {knot.proc.pid} serves {ZONE} on 127.0.0.1@{knot.port}")
            print("\nmodule log:")
            for line in knot.read_log().splitlines():
                if "mod-multisigner" in line:
                    print("  " + line)
            dnskey = wait_until(lambda: knot.rrset(ZONE, "DNSKEY"), 10, what="DNSKEY")
            show("DNSKEY RRset served by knotd:", dnskey)
            show("apex NS RRset served by knotd:", knot.rrset(ZONE, "NS"))
            print("\nmodule counters:")
            print("  " + knot.knotc("-f", "zone-stats", ZONE).stdout.strip().replace("\n", "\n  "))
        finally:
            knot.stop()
    print("\ndemo finished")


if __name__ == "__main__":
    main()
