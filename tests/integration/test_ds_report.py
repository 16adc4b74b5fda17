"""The DS records the registrar needs (issue 5): one info line per KSK, for
our KSK and for Cloudflare's, logged once while they do not change.

The expected digests come from elsewhere: our KSK's from the real
`keymgr <zone> ds`, Cloudflare's from the DS the simulator's /dnssec reports
(computed by the simulator's own Python, tests/cfsim/keys.py)."""
from sync_helpers import CHECK_INTERVAL, MARGIN, ZONE
from sync_helpers import sync_knot_factory, sync_pair, sync_pair_factory  # noqa: F401 (fixtures)


def ds_lines(pair):
    return [ln for ln in pair.module_lines() if "DS for the registrar" in ln]


def test_ds_of_both_ksks_logged_once(sync_pair):
    pair = sync_pair
    pair.wait(pair.keys_in_step, pair.keys_timeout, "initial key exchange")
    pair.wait(lambda: [ln for ln in ds_lines(pair) if "Cloudflare's KSK" in ln],
              CHECK_INTERVAL + MARGIN, "Cloudflare's DS in the log")

    ours = [ln.split() for ln in pair.knot.keymgr(ZONE, "ds").stdout.splitlines()
            if " DS " in ln and " 2 " in ln]
    ours = {(int(p[-4]), p[-1].upper()) for p in ours if p[-2] == "2"}
    assert ours, "keymgr ds printed no SHA-256 DS"
    dnssec = pair.cf_zone()["dnssec"]
    cf_ds = dnssec["ds"].split()
    theirs = (int(cf_ds[-4]), cf_ds[-1].upper())

    lines = ds_lines(pair)
    logged = {(int(ln.split(" IN DS ")[1].split()[0]), ln.split()[-1])
              for ln in lines if " IN DS " in ln}
    assert logged == ours | {theirs}, lines
    assert [ln for ln in lines if "Cloudflare's KSK" in ln and f" {theirs[1]}" in ln], lines
    # Before DNSSEC is on at Cloudflare, its /dnssec has no key: that is said
    # too, then its DS follows once it is on.
    for ln in lines:
        assert f"{ZONE}. IN DS " in ln or "Cloudflare has not reported its KSK yet" in ln, ln

    # Nothing changed since: a few more passes log nothing new.
    passes = pair.stat("sync-passes")
    pair.wait(lambda: pair.stat("sync-passes") >= passes + 2, 3 * CHECK_INTERVAL + MARGIN,
              "two more passes")
    assert ds_lines(pair) == lines
    assert not [ln for ln in pair.module_lines() if "does not match its KSK" in ln]
