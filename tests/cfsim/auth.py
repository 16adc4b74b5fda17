"""Authentication and permission checks, with Cloudflare's failure codes.

Bearer tokens are never checked for length or alphabet (Cloudflare's formats
change, e.g. the cfut_/cfat_ prefixes): a header is malformed only when it is
not "Bearer <one printable word>".  The legacy global key is checked for its
format (37 lower-case hex) as Cloudflare does, unless strict_key_format is off.
"""

import re

from .errors import (ApiError, AUTH_ERROR, BAD_AUTHZ_HEADER, BAD_EMAIL_HEADER, BAD_HEADERS,
                     BAD_KEY_HEADER, INVALID_ACCESS_TOKEN, INVALID_TOKEN_VERIFY, MISSING_AUTH,
                     UNKNOWN_KEY)

BEARER_RE = re.compile(r"^[Bb]earer +([\x21-\x7e]+)$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")
GLOBAL_KEY_RE = re.compile(r"^[0-9a-f]{37}$")


class Principal:
    """Who made a request. `kind` is what the request log shows."""

    def __init__(self, kind, token=None, email=None):
        self.kind = kind          # "bearer" or "email_key"
        self.token = token        # state.Token for bearer
        self.email = email

    def may(self, permission, zone_name=None):
        if self.kind == "email_key":
            return True           # the global key can do everything
        if self.token.zones is not None and zone_name is not None \
                and zone_name not in self.token.zones:
            return False
        perms = self.token.permissions
        if permission is None:
            return True
        implied = {
            "zone_read": True,
            "dns_read": bool(perms & {"dns_read", "dns_write"}),
            "dns_write": "dns_write" in perms,
            "dns_settings_read": bool(perms & {"dns_settings_read", "dns_settings_write",
                                               "dns_read", "dns_write"}),
            "dns_settings_write": "dns_settings_write" in perms,
        }
        return implied[permission]

    def sees_zone(self, zone_name):
        return self.kind == "email_key" or self.token.zones is None \
            or zone_name in self.token.zones


def auth_kind(headers):
    """Classify the credentials offered, for the log and the rate limiter."""
    if headers.get("Authorization") is not None:
        return "bearer"
    if headers.get("X-Auth-Email") is not None or headers.get("X-Auth-Key") is not None:
        return "email_key"
    return "none"


def credential_key(headers, client_ip):
    """The rate-limit bucket: the credential offered, or the client address."""
    authz = headers.get("Authorization")
    if authz is not None:
        return "bearer:" + authz.strip()
    email = headers.get("X-Auth-Email")
    if email is not None:
        return "email:" + email.strip().lower()
    return "ip:" + client_ip


def _bad_headers(*chain):
    return ApiError(400, BAD_HEADERS, "Invalid request headers", chain=chain)


def _parse_bearer(authz):
    m = BEARER_RE.match(authz.strip())
    if not m:
        raise _bad_headers((BAD_AUTHZ_HEADER, "Invalid format for Authorization header"))
    return m.group(1)


def authenticate(headers, store):
    """Return the Principal for an API request or raise the Cloudflare error."""
    authz = headers.get("Authorization")
    email = headers.get("X-Auth-Email")
    key = headers.get("X-Auth-Key")
    if authz is not None:
        value = _parse_bearer(authz)
        token = store.tokens.get(value)
        if token is None or token.current_status() != "active":
            raise ApiError(403, INVALID_ACCESS_TOKEN, "Invalid access token")
        return Principal("bearer", token=token)
    if email is not None or key is not None:
        chain = []
        if email is None or not EMAIL_RE.match(email.strip()):
            chain.append((BAD_EMAIL_HEADER, "Invalid format for X-Auth-Email header"))
        key_ok = key is not None and key.strip() and (
            not store.options["strict_key_format"] or GLOBAL_KEY_RE.match(key.strip()))
        if not key_ok:
            chain.append((BAD_KEY_HEADER, "Invalid format for X-Auth-Key header"))
        if chain:
            raise _bad_headers(*chain)
        if store.legacy.get(email.strip().lower()) != key.strip():
            raise ApiError(403, UNKNOWN_KEY, "Unknown X-Auth-Key or X-Auth-Email")
        return Principal("email_key", email=email.strip().lower())
    raise ApiError(400, MISSING_AUTH, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")


def verify_token(headers, store):
    """GET /user/tokens/verify: only Bearer tokens can be verified here."""
    authz = headers.get("Authorization")
    if authz is None:
        if auth_kind(headers) == "none":
            raise ApiError(400, MISSING_AUTH,
                           "Missing X-Auth-Key, X-Auth-Email or Authorization headers")
        raise _bad_headers((BAD_AUTHZ_HEADER, "Invalid format for Authorization header"))
    value = _parse_bearer(authz)
    token = store.tokens.get(value)
    if token is None:
        raise ApiError(401, INVALID_TOKEN_VERIFY, "Invalid API Token")
    status = token.current_status()
    result = {"id": token.id, "status": status}
    if token.not_before:
        result["not_before"] = token.not_before
    if token.expires_on:
        result["expires_on"] = token.expires_on
    messages = []
    if status == "active":
        messages.append({"code": 10000, "message": "This API Token is valid and active"})
    return result, messages


def forbid(store):
    return ApiError(store.options["perm_denied_status"], AUTH_ERROR, "Authentication error")
