"""EC2/S3 signature checks against real signatures made by botocore's own signers."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV2Auth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from onestack.identity.ec2sig import InvalidSignature, SignedRequest, v2_string_to_sign, verify

ACCESS = "0123456789abcdef0123456789abcdef"
SECRET = "fedcba9876543210fedcba9876543210"
URL = "http://cloud.example:8773/services/Cloud/"


def as_signed(aws: AWSRequest, body: bytes = b"") -> SignedRequest:
    """What an EC2/S3 front end would pass on after receiving `aws` from the client."""
    prepared = aws.prepare()
    split = urlsplit(prepared.url)
    params = dict(parse_qsl(split.query, keep_blank_values=True))
    if isinstance(aws.data, dict):  # a form POST: the front end reads the params from the body
        params.update(parse_qsl(body.decode(), keep_blank_values=True))
    return SignedRequest(
        access=ACCESS,
        verb=prepared.method,
        host=split.netloc,
        path=split.path or "/",
        params=params,
        headers=dict(prepared.headers.items()),
        body_hash=hashlib.sha256(body).hexdigest(),
    )


def v4_header(
    url: str = URL, method: str = "GET", body: bytes | dict[str, str] = b"", signer=SigV4Auth
) -> SignedRequest:
    aws = AWSRequest(method=method, url=url, data=body)
    signer(Credentials(ACCESS, SECRET), "ec2", "RegionOne").add_auth(aws)
    return as_signed(aws, aws.body or b"")


def v4_query(url: str = URL, expires: int = 300, signer=SigV4QueryAuth) -> SignedRequest:
    aws = AWSRequest(method="GET", url=url)
    signer(Credentials(ACCESS, SECRET), "s3", "RegionOne", expires=expires).add_auth(aws)
    return as_signed(aws)


def v2(method: str = "GET", params: dict[str, str] | None = None) -> SignedRequest:
    params = {"Action": "DescribeInstances", "Version": "2016-11-15", **(params or {})}
    aws = AWSRequest(method=method, url=URL, params=params if method == "GET" else {})
    if method == "POST":
        aws.data = params
    SigV2Auth(Credentials(ACCESS, SECRET)).add_auth(aws)
    return as_signed(aws, aws.body or b"")


def changed(request: SignedRequest, **fields: object) -> SignedRequest:
    return SignedRequest(**{**request.__dict__, **fields})


@pytest.mark.parametrize(
    "sign",
    # Signed when the test runs, not at collection: a long suite would make them stale.
    [
        pytest.param(lambda: v4_header(), id="v4-header-get"),
        pytest.param(
            lambda: v4_header(URL + "?Action=DescribeRegions&Version=2016-11-15"), id="v4-query"
        ),
        pytest.param(
            lambda: v4_header(method="POST", body=b"Action=DescribeRegions"), id="v4-post"
        ),
        pytest.param(
            lambda: v4_header(method="POST", body={"Action": "DescribeRegions"}), id="v4-form"
        ),
        pytest.param(
            lambda: v4_header(URL + "a%20b/../c//d", signer=SigV4Auth), id="v4-encoded-path"
        ),
        pytest.param(
            lambda: v4_header(URL + "bucket/a%20key", signer=S3SigV4Auth), id="v4-s3-path"
        ),
        pytest.param(
            lambda: v4_header(method="PUT", body=b"data", signer=S3SigV4Auth), id="v4-s3-put"
        ),
        pytest.param(lambda: v4_query(), id="v4-presigned"),
        pytest.param(
            lambda: v4_query(URL + "bucket/key", signer=S3SigV4QueryAuth), id="v4-s3-presigned"
        ),
        pytest.param(lambda: v2(), id="v2-get"),
        pytest.param(lambda: v2("POST"), id="v2-post"),
    ],
)
def test_genuine_signatures_verify(sign: Callable[[], SignedRequest]) -> None:
    verify(sign(), SECRET)


def test_the_signature_in_the_body_is_the_one_checked() -> None:
    request = v4_header()
    auth = request.header("Authorization") or ""
    signature = auth.rpartition("Signature=")[2]
    verify(changed(request, signature=signature), SECRET)
    with pytest.raises(InvalidSignature):
        verify(changed(request, signature="0" * 64), SECRET)


def test_v2_with_hmac_sha1() -> None:
    request = changed(
        v2(),
        params={**v2().params, "SignatureMethod": "HmacSHA1"},
    )
    digest = hmac.new(SECRET.encode(), v2_string_to_sign(request).encode(), hashlib.sha1)
    verify(changed(request, signature=base64.b64encode(digest.digest()).decode()), SECRET)


@pytest.mark.parametrize(
    "make",
    [v4_header, v4_query, v2],
    ids=["v4-header", "v4-query", "v2"],
)
def test_wrong_secret_is_refused(make) -> None:
    with pytest.raises(InvalidSignature):
        verify(make(), "not-the-secret")


@pytest.mark.parametrize("make", [v4_header, v4_query, v2], ids=["v4-header", "v4-query", "v2"])
def test_changed_path_is_refused(make) -> None:
    with pytest.raises(InvalidSignature):
        verify(changed(make(), path="/services/Other/"), SECRET)


@pytest.mark.parametrize("make", [v4_header, v4_query, v2], ids=["v4-header", "v4-query", "v2"])
def test_changed_host_is_refused(make) -> None:
    request = make()
    headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
    with pytest.raises(InvalidSignature):
        verify(changed(request, host="evil.example:8773", headers=headers), SECRET)


def test_changed_signed_header_is_refused() -> None:
    request = v4_header()
    headers = {**request.headers, "X-Amz-Date": "20200101T000000Z"}
    with pytest.raises(InvalidSignature):
        verify(changed(request, headers=headers), SECRET)


def test_changed_param_is_refused() -> None:
    for request in (v4_header(URL + "?Action=DescribeRegions"), v4_query(), v2()):
        params = {**request.params, "Action": "TerminateInstances"}
        with pytest.raises(InvalidSignature):
            verify(changed(request, params=params), SECRET)


def test_changed_body_is_refused() -> None:
    request = v4_header(method="PUT", body=b"data")
    with pytest.raises(InvalidSignature):
        verify(changed(request, body_hash=hashlib.sha256(b"other").hexdigest()), SECRET)


def test_absent_body_hash_means_an_empty_body() -> None:
    verify(changed(v4_header(), body_hash=None), SECRET)


def test_another_access_key_is_refused() -> None:
    with pytest.raises(InvalidSignature):
        verify(changed(v4_header(), access="someone-else"), SECRET)


@pytest.mark.parametrize("make", [v4_header, v2], ids=["v4-header", "v2"])
def test_stale_requests_are_refused(make) -> None:
    request = make()
    verify(request, SECRET, datetime.now(UTC) + timedelta(minutes=14))
    for skew in (timedelta(minutes=16), -timedelta(minutes=16)):
        with pytest.raises(InvalidSignature):
            verify(request, SECRET, datetime.now(UTC) + skew)


def test_presigned_request_lives_until_it_expires() -> None:
    request = v4_query(expires=3600)
    verify(request, SECRET, datetime.now(UTC) + timedelta(minutes=59))
    with pytest.raises(InvalidSignature, match="expired"):
        verify(request, SECRET, datetime.now(UTC) + timedelta(minutes=61))


def test_v2_expires_param() -> None:
    expires = (datetime.now(UTC) + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    request = v2(params={"Expires": expires})
    verify(request, SECRET, datetime.now(UTC) + timedelta(minutes=29))
    with pytest.raises(InvalidSignature):
        verify(request, SECRET, datetime.now(UTC) + timedelta(minutes=31))


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({}, {}),
        ({"SignatureVersion": "1"}, {}),
        ({"SignatureVersion": "2", "SignatureMethod": "HmacMD5"}, {}),
        ({"SignatureVersion": "2", "SignatureMethod": "HmacSHA256"}, {}),  # no timestamp
        ({}, {"Authorization": "AWS4-HMAC-SHA256 Credential=x"}),
        ({"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Expires": "soon"}, {}),
        (
            {},
            {
                "Authorization": "AWS4-HMAC-SHA256 Credential=a/20260101/r/s/aws4_request, "
                "SignedHeaders=x-amz-date, Signature=00",
                "X-Amz-Date": "20260101T000000Z",
            },
        ),
    ],
)
def test_malformed_signing_data_is_refused(params: dict[str, str], headers: dict[str, str]) -> None:
    request = SignedRequest(
        access=ACCESS, verb="GET", host="h", path="/", params=params, headers=headers, signature="x"
    )
    with pytest.raises(InvalidSignature):
        verify(request, SECRET)


def test_quoting_matches_for_unicode_params() -> None:
    request = v2(params={"Name": "é ~*"})
    verify(request, SECRET)
    assert quote("é") in v2_string_to_sign(request)
