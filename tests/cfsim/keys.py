"""Real DNSSEC keys for the simulated zones: ECDSA P-256 (algorithm 13).

Each zone gets genuine keys so a test can make a second signer (Knot) sign
with them and so key tags / DS digests a client computes can be checked
against independent code (dnspython in the tests).
"""

import base64
import hashlib
import struct

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ALGORITHM = 13          # ECDSAP256SHA256
PROTOCOL = 3
FLAGS_KSK = 257
FLAGS_ZSK = 256
DIGEST_TYPE = 2         # SHA-256


def name_to_wire(name):
    """Canonical (lower-case) wire form of a domain name; '' or '.' is the root."""
    name = name.rstrip(".").lower()
    out = b""
    if name:
        for label in name.split("."):
            raw = label.encode("ascii")
            if not 0 < len(raw) < 64:
                raise ValueError(f"bad label in {name!r}")
            out += bytes([len(raw)]) + raw
    return out + b"\x00"


def key_tag(rdata):
    """RFC 4034 Appendix B key tag over DNSKEY RDATA (not for algorithm 1)."""
    acc = 0
    for i, byte in enumerate(rdata):
        acc += byte if i & 1 else byte << 8
    acc += (acc >> 16) & 0xFFFF
    return acc & 0xFFFF


def dnskey_rdata(flags, protocol, algorithm, public_key_raw):
    return struct.pack("!HBB", flags, protocol, algorithm) + public_key_raw


def ds_digest(owner, rdata):
    """SHA-256 DS digest: hash of the owner's canonical wire name + DNSKEY RDATA."""
    return hashlib.sha256(name_to_wire(owner) + rdata).hexdigest().upper()


class DnssecKey:
    """One ECDSA P-256 DNSSEC key with the views tests and the API need."""

    def __init__(self, flags, private_key=None):
        self.flags = flags
        self.private_key = private_key or ec.generate_private_key(ec.SECP256R1())
        numbers = self.private_key.public_key().public_numbers()
        # RFC 6605: the DNSKEY public key is the raw point X || Y, 32 bytes each.
        self.public_raw = numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")
        self.public_b64 = base64.b64encode(self.public_raw).decode("ascii")
        self.rdata = dnskey_rdata(flags, PROTOCOL, ALGORITHM, self.public_raw)
        self.key_tag = key_tag(self.rdata)

    @classmethod
    def from_pem(cls, flags, pem):
        key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem,
                                                 password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("only ECDSA P-256 keys are supported")
        return cls(flags, key)

    @property
    def rdata_text(self):
        return f"{self.flags} {PROTOCOL} {ALGORITHM} {self.public_b64}"

    def dnskey_text(self, owner, ttl=3600):
        return f"{owner.rstrip('.')}. {ttl} IN DNSKEY {self.rdata_text}"

    def ds(self, owner):
        return ds_digest(owner, self.rdata)

    def ds_text(self, owner, ttl=3600):
        return (f"{owner.rstrip('.')}. {ttl} IN DS {self.key_tag} {ALGORITHM} "
                f"{DIGEST_TYPE} {self.ds(owner)}")

    def private_pem(self):
        """PKCS#8 PEM, the form `keymgr import-pem` accepts."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode("ascii")

    def private_scalar_b64(self):
        d = self.private_key.private_numbers().private_value
        return base64.b64encode(d.to_bytes(32, "big")).decode("ascii")

    def bind_private(self):
        """BIND 'Private-key-format v1.3' text (dnssec-keygen's .private file)."""
        return ("Private-key-format: v1.3\n"
                "Algorithm: 13 (ECDSAP256SHA256)\n"
                f"PrivateKey: {self.private_scalar_b64()}\n")

    def describe(self, owner, ttl=3600, with_private=True):
        out = {
            "key_tag": self.key_tag,
            "flags": self.flags,
            "protocol": PROTOCOL,
            "algorithm": ALGORITHM,
            "public_key": self.public_b64,
            "dnskey": self.dnskey_text(owner, ttl),
        }
        if self.flags == FLAGS_KSK:
            out["ds"] = self.ds_text(owner, ttl)
            out["digest"] = self.ds(owner)
        if with_private:
            out["private_key_pem"] = self.private_pem()
            out["private_key_b64"] = self.private_scalar_b64()
            out["bind_private"] = self.bind_private()
        return out


class RawKey:
    """A DNSKEY value with no private key behind it, exactly as given: for a
    ZSK list entry that is not what Cloudflare should list (another
    algorithm, a public key that is not a P-256 point or not even base64).
    It has the views of DnssecKey that the ZSK list and keys_view use."""

    def __init__(self, flags=FLAGS_ZSK, algorithm=ALGORITHM, public_key="", protocol=PROTOCOL):
        for name, value, top in (("flags", flags, 0xFFFF), ("algorithm", algorithm, 255),
                                 ("protocol", protocol, 255)):
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top:
                raise ValueError(f"{name} must be an integer from 0 to {top}")
        if not isinstance(public_key, str):
            raise ValueError("public_key must be a string")
        self.flags = flags
        self.algorithm = algorithm
        self.protocol = protocol
        self.public_b64 = public_key
        try:
            raw = base64.b64decode(public_key, validate=True)
        except ValueError:
            raw = public_key.encode("utf-8", "replace")
        self.rdata = struct.pack("!HBB", flags, protocol, algorithm) + raw
        self.key_tag = key_tag(self.rdata)

    @property
    def rdata_text(self):
        return f"{self.flags} {self.protocol} {self.algorithm} {self.public_b64}"

    def dnskey_text(self, owner, ttl=3600):
        return f"{owner.rstrip('.')}. {ttl} IN DNSKEY {self.rdata_text}"

    def describe(self, owner, ttl=3600, with_private=True):
        return {"key_tag": self.key_tag, "flags": self.flags, "protocol": self.protocol,
                "algorithm": self.algorithm, "public_key": self.public_b64,
                "dnskey": self.dnskey_text(owner, ttl), "raw": True}
