"""AWS request signatures, checked against a secret: Signature Version 4 and Version 2.

Pure functions over a `SignedRequest` (what an S3/EC2 front end saw on the wire: verb, host,
path, params, headers, body hash) and a secret; no database, no HTTP. `verify` raises
`InvalidSignature` with a reason for the log; callers show every reason as the same 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

V4_ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
# How far a signed moment may be from now, either way (Keystone's default auth_ttl).
MAX_SKEW = timedelta(minutes=15)
V2_METHODS = {"HmacSHA256": hashlib.sha256, "HmacSHA1": hashlib.sha1}


class InvalidSignature(Exception):
    """The request is not signed by this secret, now."""


@dataclass(frozen=True)
class SignedRequest:
    access: str
    verb: str
    host: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body_hash: str | None = None
    # The signature to check; when None, the one the request itself carries.
    signature: str | None = None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


def verify(request: SignedRequest, secret: str, now: datetime | None = None) -> None:
    """Return if `request` is signed with `secret` and fresh at `now`; InvalidSignature if not."""
    now = now or datetime.now(UTC)
    if _is_v4(request):
        _verify_v4(request, secret, now)
    elif request.params.get("SignatureVersion") == "2":
        _verify_v2(request, secret, now)
    else:
        version = request.params.get("SignatureVersion")
        raise InvalidSignature(f"unsupported signature version: {version or 'none'}")


def _is_v4(request: SignedRequest) -> bool:
    authorization = request.header("Authorization") or ""
    return (
        authorization.startswith(V4_ALGORITHM)
        or request.params.get("X-Amz-Algorithm") == V4_ALGORITHM
    )


def _same(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


# -- Version 4 ----------------------------------------------------------------------------


@dataclass(frozen=True)
class V4Auth:
    """The signing parameters of a v4 request, from its Authorization header or its query."""

    access: str
    date: str  # YYYYMMDD
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str  # YYYYMMDDTHHMMSSZ
    expires_s: int | None
    in_query: bool

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def v4_auth(request: SignedRequest) -> V4Auth:
    """The v4 parameters; InvalidSignature when they are missing or malformed."""
    authorization = request.header("Authorization")
    if authorization and authorization.startswith(V4_ALGORITHM):
        fields = _authorization_fields(authorization.removeprefix(V4_ALGORITHM))
        in_query, expires = False, None
    else:
        params = request.params
        fields = {k.removeprefix("X-Amz-"): v for k, v in params.items() if k.startswith("X-Amz-")}
        in_query, expires = True, _int_or_none(params.get("X-Amz-Expires"))
    try:
        credential, signed, signature = (
            fields["Credential"],
            fields["SignedHeaders"],
            fields["Signature"],
        )
        access, date, region, service, terminal = credential.split("/")
    except (KeyError, ValueError) as exc:
        raise InvalidSignature("malformed v4 authorization") from exc
    amz_date = request.header("X-Amz-Date") or request.params.get("X-Amz-Date") or ""
    if terminal != "aws4_request" or not amz_date.startswith(date) or len(date) != 8:
        raise InvalidSignature("the v4 credential scope does not match the request date")
    signed_headers = tuple(h for h in signed.lower().split(";") if h)
    if "host" not in signed_headers:
        # AWS requires it: otherwise a signature could be replayed at another endpoint.
        raise InvalidSignature("the host header is not signed")
    return V4Auth(
        access=access,
        date=date,
        region=region,
        service=service,
        signed_headers=signed_headers,
        signature=signature,
        amz_date=amz_date,
        expires_s=expires,
        in_query=in_query,
    )


def _authorization_fields(text: str) -> dict[str, str]:
    fields = {}
    for part in text.split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    return fields


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise InvalidSignature("X-Amz-Expires is not a number") from exc


def _verify_v4(request: SignedRequest, secret: str, now: datetime) -> None:
    auth = v4_auth(request)
    if auth.access != request.access:
        raise InvalidSignature("the v4 credential names another access key")
    _check_v4_fresh(auth, now)
    key = v4_signing_key(secret, auth.date, auth.region, auth.service)
    given = request.signature or auth.signature
    for canonical in v4_canonical_requests(request, auth):
        expected = hmac.new(key, v4_string_to_sign(auth, canonical).encode(), hashlib.sha256)
        if _same(expected.hexdigest(), given):
            return
    raise InvalidSignature("v4 signature mismatch")


def _check_v4_fresh(auth: V4Auth, now: datetime) -> None:
    try:
        signed_at = datetime.strptime(auth.amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidSignature("X-Amz-Date is not YYYYMMDDTHHMMSSZ") from exc
    if signed_at - now > MAX_SKEW:
        raise InvalidSignature("the request is dated in the future")
    if auth.expires_s is not None:
        if now > signed_at + timedelta(seconds=auth.expires_s):
            raise InvalidSignature("the presigned request has expired")
    elif now - signed_at > MAX_SKEW:
        raise InvalidSignature("the request date is too old")


def v4_signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def v4_string_to_sign(auth: V4Auth, canonical_request: str) -> str:
    digest = hashlib.sha256(canonical_request.encode()).hexdigest()
    return "\n".join((V4_ALGORITHM, auth.amz_date, auth.scope, digest))


def v4_canonical_requests(request: SignedRequest, auth: V4Auth) -> list[str]:
    """Every canonical request a genuine client may have signed for what the front end saw.

    Clients differ in a few places that the front end cannot tell us: S3 signs the path as
    sent while other services encode it once more; an EC2 POST carries its params in the
    (hashed) body, so its canonical query is empty; a presigned S3 URL leaves the payload
    unsigned. Each variant is still a signature over everything the client sent.
    """
    paths = dict.fromkeys((request.path or "/", _encoded_path(request.path)))
    queries = dict.fromkeys([v4_canonical_query(request.params)])
    if request.verb.upper() == "POST":
        queries[""] = None
    payloads = dict.fromkeys([_payload_hash(request)])
    if auth.in_query:
        payloads[UNSIGNED_PAYLOAD] = None
    headers = _canonical_headers(request, auth.signed_headers)
    return [
        "\n".join((request.verb.upper(), path, query, headers, ";".join(auth.signed_headers), h))
        for path in paths
        for query in queries
        for h in payloads
    ]


def _encoded_path(path: str) -> str:
    """The path as non-S3 clients sign it: dot segments and empty segments removed, then
    percent-encoded once more."""
    segments: list[str] = []
    for segment in (path or "/").split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    trailing = "/" if path.endswith("/") and segments else ""
    return quote("/" + "/".join(segments) + trailing, safe="/~")


def v4_canonical_query(params: Mapping[str, str]) -> str:
    pairs = sorted(
        (quote(key, safe="-_.~"), quote(str(value), safe="-_.~"))
        for key, value in params.items()
        if key != "X-Amz-Signature"
    )
    return "&".join(f"{key}={value}" for key, value in pairs)


def _canonical_headers(request: SignedRequest, names: tuple[str, ...]) -> str:
    lines = []
    for name in names:
        value = request.header(name)
        if value is None and name == "host":
            value = request.host  # front ends pass the Host header apart
        if value is None:
            raise InvalidSignature(f"signed header {name} is missing")
        lines.append(f"{name}:{' '.join(value.split())}")
    return "\n".join(lines) + "\n"


def _payload_hash(request: SignedRequest) -> str:
    # S3 clients sign the hash they send in x-amz-content-sha256 (or UNSIGNED-PAYLOAD).
    return request.header("X-Amz-Content-SHA256") or request.body_hash or EMPTY_SHA256


# -- Version 2 ----------------------------------------------------------------------------


def _verify_v2(request: SignedRequest, secret: str, now: datetime) -> None:
    params = request.params
    digest = V2_METHODS.get(params.get("SignatureMethod", ""))
    if digest is None:
        raise InvalidSignature("v2 needs SignatureMethod HmacSHA256 or HmacSHA1")
    if params.get("AWSAccessKeyId", request.access) != request.access:
        raise InvalidSignature("AWSAccessKeyId names another access key")
    _check_v2_fresh(params, now)
    mac = hmac.new(secret.encode(), v2_string_to_sign(request).encode(), digest)
    expected = base64.b64encode(mac.digest()).decode()
    if not _same(expected, request.signature or params.get("Signature")):
        raise InvalidSignature("v2 signature mismatch")


def v2_string_to_sign(request: SignedRequest) -> str:
    pairs = sorted(
        (quote(key, safe=""), quote(str(value), safe="-_~"))
        for key, value in request.params.items()
        if key != "Signature"
    )
    query = "&".join(f"{key}={value}" for key, value in pairs)
    return f"{request.verb.upper()}\n{request.host.lower()}\n{request.path or '/'}\n{query}"


def _check_v2_fresh(params: Mapping[str, str], now: datetime) -> None:
    if "Expires" in params:
        if now > _iso8601(params["Expires"]):
            raise InvalidSignature("the request has expired")
    elif "Timestamp" in params:
        if abs(now - _iso8601(params["Timestamp"])) > MAX_SKEW:
            raise InvalidSignature("the request timestamp is too far from now")
    else:
        raise InvalidSignature("a v2 request needs a Timestamp or an Expires")


def _iso8601(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidSignature(f"not an ISO 8601 time: {text}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def verify_s3_token(string_to_sign: bytes, signature: str, secret: str) -> None:
    """What an S3 front end (Swift's s3api) asks of /v3/s3tokens: the signature it saw over the
    string to sign it built. AWS Signature V4 when that string starts with AWS4 (its third line
    is the credential scope date/region/service/aws4_request), else V2 (HMAC-SHA1, base64).
    Freshness is the front end's to check: it saw the request's date."""
    text = string_to_sign.decode("utf-8", "replace")
    if string_to_sign.startswith(b"AWS4"):
        lines = text.split("\n")
        scope = lines[2].split("/") if len(lines) > 2 else []
        if len(scope) != 4:
            raise InvalidSignature("a V4 string to sign names its credential scope")
        key = v4_signing_key(secret, scope[0], scope[1], scope[2])
        expected = hmac.new(key, string_to_sign, hashlib.sha256).hexdigest()
    else:
        digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha1).digest()
        expected = base64.b64encode(digest).decode()
    if not _same(expected, signature):
        raise InvalidSignature("signature mismatch")
