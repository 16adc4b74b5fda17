"""Rule 2 (issue 5): a key tag shared by one of our keys and one of Cloudflare's.

The simulator publishes a new Cloudflare ZSK made here to have the key tag of
knotd's ZSK (a P-256 key found by walking d*G, (d+1)*G, ... until the tag
matches: about 65,536 point additions, a second or two). Then the module must
log an error naming the zone, the tag, our key and Cloudflare's, and the
command that ends it, once; and meanwhile keep serving: Cloudflare's key is
imported like any other and nothing is removed on either side.
"""
import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sync_helpers import CHECK_INTERVAL, MARGIN, ZONE, Key
from sync_helpers import sync_knot_factory, sync_pair, sync_pair_factory  # noqa: F401 (fixtures)

# P-256 (SEC 2 / FIPS 186-4).
P = 2**256 - 2**224 + 2**192 + 2**96 - 1
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
     0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)


def _add(a, b):
    """Affine addition of two different points that are not each other's negative."""
    lam = (b[1] - a[1]) * pow(b[0] - a[0], -1, P) % P
    x = (lam * lam - a[0] - b[0]) % P
    return x, (lam * (a[0] - x) - a[1]) % P


def _tag(x, y, flags=256):
    """RFC 4034 appendix B over flags | 3 | 13 | x | y, word by word."""
    acc = flags + ((3 << 8) | 13)
    for v in (x, y):
        for k in range(16):
            acc += (v >> (16 * k)) & 0xFFFF
    acc += (acc >> 16) & 0xFFFF
    return acc & 0xFFFF


def p256_key_with_tag(want, limit=2_000_000):
    d = secrets.randbelow(N - 2) + 1
    numbers = ec.derive_private_key(d, ec.SECP256R1()).public_key().public_numbers()
    point = (numbers.x, numbers.y)
    for i in range(limit):
        if _tag(*point) == want:
            return ec.derive_private_key((d + i) % N, ec.SECP256R1())
        point = _add(point, G)
    raise AssertionError(f"no key with tag {want} in {limit} tries")


def test_tag_collision_logged_as_error_and_nothing_removed(sync_pair):
    pair = sync_pair
    pair.wait(pair.keys_in_step, pair.keys_timeout, "initial key exchange")
    (ours,) = pair.our_zsks()
    our_id = next(k["id"] for k in pair.keymgr_keys()
                  if k["tag"] == ours.tag and not k.get("public-only"))
    key = p256_key_with_tag(ours.tag)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode("ascii")
    keys = pair.cf.zsk_rollover(ZONE, "publish", private_key_pem=pem)
    twin = Key.from_sim_key(next(z for z in keys["zsks"] if z["tag"] == "publish"))
    assert twin.tag == ours.tag and twin != ours

    needle = f"key tag {ours.tag} is shared by our ZSK {our_id} and Cloudflare's ZSK"
    pair.knot.wait_log(needle, CHECK_INTERVAL + MARGIN)
    line = next(ln for ln in pair.knot.read_log().splitlines() if needle in ln)
    assert f" error: [{ZONE}.] module 'mod-multisigner/cf'" in line, line
    assert f"knotc zone-key-rollover {ZONE} zsk" in line, line

    # Meanwhile: Cloudflare's key imported as usual, ours still at Cloudflare,
    # nothing removed on either side.
    pair.wait(lambda: twin in pair.local_zsks(), pair.keys_timeout,
              "Cloudflare's colliding ZSK in knotd's DNSKEY RRset")
    passes = pair.stat("sync-passes")
    pair.wait(lambda: pair.stat("sync-passes") >= passes + 2, 3 * CHECK_INTERVAL + MARGIN,
              "two more passes")
    assert ours in pair.local_zsks() and ours in pair.cf_our_keys()
    assert twin in pair.local_zsks()
    assert not [ln for ln in pair.module_lines() if "deleting" in ln or "removing" in ln]
    # Logged once while it lasts.
    assert sum(needle in ln for ln in pair.module_lines()) == 1
    pair.assert_foreign_untouched()
