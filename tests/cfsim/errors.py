"""Cloudflare API errors as the simulator raises and renders them.

Every failure a handler can produce is an ApiError; the server turns it into
the Cloudflare failure envelope.  Codes confirmed by the contract
(doc/../shared/reference/cloudflare-api.md) or by error bodies users posted are
marked "seen"; the others are the simulator's own choice where Cloudflare's
exact code is unknown, so clients must key on the HTTP status and the
top-level codes, never on these.
"""


class ApiError(Exception):
    """An API failure: HTTP status + one Cloudflare error (+ optional chain)."""

    def __init__(self, status, code, message, chain=None, extra=None, headers=None):
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.chain = list(chain or [])       # [(code, message), ...]
        self.extra = list(extra or [])       # further top-level errors
        self.headers = dict(headers or {})

    def errors(self):
        err = {"code": self.code, "message": self.message}
        if self.chain:
            err["error_chain"] = [{"code": c, "message": m} for c, m in self.chain]
        return [err] + [{"code": c, "message": m} for c, m in self.extra]


# --- routing (seen) ---------------------------------------------------------
NO_ROUTE = 7000            # "No route for that URI"
METHOD_NOT_ALLOWED = 7001  # "Method X not available for that URI"
BAD_OBJECT_ID = 7003       # "Could not route to ..., perhaps your object identifier is invalid?"

# --- authentication (seen) --------------------------------------------------
INVALID_TOKEN_VERIFY = 1000    # 401 on /user/tokens/verify
BAD_HEADERS = 6003             # 400 "Invalid request headers"
BAD_EMAIL_HEADER = 6102
BAD_KEY_HEADER = 6103
BAD_AUTHZ_HEADER = 6111
UNKNOWN_KEY = 9103             # 403 "Unknown X-Auth-Key or X-Auth-Email"
MISSING_AUTH = 9106            # 400 "Missing X-Auth-Key, X-Auth-Email or Authorization headers"
INVALID_ACCESS_TOKEN = 9109    # 403 "Invalid access token"
AUTH_ERROR = 10000             # 403 "Authentication error" (missing permission)

# --- rate limiting (believed) -----------------------------------------------
RATE_LIMITED = 971

# --- DNS records (seen) -----------------------------------------------------
DNS_VALIDATION = 1004          # "DNS Validation Error", wraps a chain
INVALID_NAME = 9000            # "DNS name is invalid."
BAD_BODY = 9207                # "Request body is invalid."
RECORD_EXISTS = 81057          # "The record already exists."
RECORD_IDENTICAL = 81058       # "An identical record already exists."
RECORD_NOT_FOUND = 81044       # "Record does not exist."
REQUIRED_DATA_FIELD = 9101     # "<field> is a required data field." (seen in a chain)
TAGS_QUOTA = 9300              # "DNS record has N tags, exceeding the quota of 0." (seen)

# --- simulator's choice (Cloudflare's code unknown) ---------------------------
INVALID_TYPE = 9009
INVALID_CONTENT = 9005
INVALID_TTL = 9021
INVALID_COMMENT = 9022
INVALID_TAG = 9023
NOT_PROXIABLE = 9004
DNSKEY_NEEDS_MULTI_SIGNER = 9030
DNSKEY_NOT_AT_APEX = 9031
CLOUDFLARE_NS = 9032
INVALID_DATA = 9033
BATCH_TOO_LARGE = 9034
INVALID_PARAM = 9020           # bad query parameter value
INVALID_SETTING = 1007         # bad field value in a dnssec / dns_settings PATCH
DNSSEC_NOT_DISABLED = 1012     # DELETE /dnssec while not disabled
PAYLOAD_TOO_LARGE = 9208
SECONDARY_READ_ONLY = 9035    # a record write on a secondary zone (chain of 1004)


def no_route():
    return ApiError(400, NO_ROUTE, "No route for that URI")


def bad_object_id(path):
    return ApiError(400, BAD_OBJECT_ID,
                    f"Could not route to {path}, perhaps your object identifier is invalid?")


def method_not_allowed(method):
    return ApiError(405, METHOD_NOT_ALLOWED, f"Method {method} not available for that URI")


def bad_body(detail=None):
    msg = "Request body is invalid."
    if detail:
        msg += " " + detail
    return ApiError(400, BAD_BODY, msg)


def invalid_param(name, detail):
    return ApiError(400, INVALID_PARAM, f"Invalid value for query parameter {name}: {detail}")


def invalid_setting(name, detail):
    return ApiError(400, INVALID_SETTING, f"Invalid value for {name}: {detail}")


def record_not_found():
    return ApiError(404, RECORD_NOT_FOUND, "Record does not exist.")


def record_identical():
    return ApiError(400, RECORD_IDENTICAL, "An identical record already exists.")


def secondary_read_only(zone_name):
    """A record write on a secondary zone: its records come by zone transfer."""
    return ValidationFailure(
        SECONDARY_READ_ONLY,
        f"{zone_name} is a secondary zone: its records come from zone transfers "
        "from the primary and cannot be created, changed or deleted through the API.")


def invalid_name():
    return ApiError(400, INVALID_NAME, "DNS name is invalid.")


class ValidationFailure(Exception):
    """A record validation problem; rendered as 1004 + chain or directly.

    Cloudflare announced (2024) that validation errors would drop the 1004
    wrapper and return the root cause directly; the simulator supports both
    via the `validation_error_style` option ("chain" or "direct").
    """

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message

    def to_api_error(self, style="chain"):
        if style == "direct":
            return ApiError(400, self.code, self.message)
        return ApiError(400, DNS_VALIDATION, "DNS Validation Error",
                        chain=[(self.code, self.message)])
