"""Contract tests of where a presigned Studio URL ends: the token opens the "Studio (sandbox)" page once, before it
expires; a second use, an expired or an unknown token is refused with a 403 that says why. Each test runs in process
(the URL is checked by the sandbox itself) and over HTTP (the URL is fetched from the loopback server)."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from awssandbox import studiopage
from awssandbox.clock import clock
from tests.sandbox_network import placement

ROLE = "arn:aws:iam::123456789012:role/Exec"


def sagemaker(endpoint: str | None) -> Any:
    kwargs: dict[str, Any] = {"endpoint_url": endpoint} if endpoint else {}
    return boto3.client(
        "sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x", **kwargs
    )


def open_url(endpoint: str | None, url: str) -> tuple[int, str, dict[str, str]]:
    """Follow the URL as a browser would: over HTTP a GET on the server, in process the sandbox's own check."""
    if endpoint is None:
        answer = studiopage.open_url(url)
        return answer.status, answer.html(), {}
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the loopback sandbox
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def advance(endpoint: str | None, seconds: int) -> None:
    if endpoint is None:
        clock.advance(seconds)
        return
    request = urllib.request.Request(  # noqa: S310 - the loopback sandbox
        f"{endpoint}/_sandbox/clock", data=f'{{"advance": {seconds}}}'.encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass


@pytest.fixture
def studio(endpoint: str | None) -> dict[str, Any]:
    sm = sagemaker(endpoint)
    domain_id = sm.create_domain(
        DomainName="research",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": ROLE},
        **placement(),
    )["DomainId"]
    sm.create_user_profile(DomainId=domain_id, UserProfileName="maria")
    sm.create_space(
        DomainId=domain_id,
        SpaceName="churn",
        OwnershipSettings={"OwnerUserProfileName": "maria"},
        SpaceSharingSettings={"SharingType": "Private"},
    )
    return {"sm": sm, "domain_id": domain_id, "endpoint": endpoint}


def presign(studio: dict[str, Any], **extra: Any) -> str:
    return studio["sm"].create_presigned_domain_url(DomainId=studio["domain_id"], UserProfileName="maria", **extra)[
        "AuthorizedUrl"
    ]


def test_the_url_leads_to_the_sandbox_and_opens_a_studio_page_naming_domain_profile_and_space(
    studio: dict[str, Any],
) -> None:
    endpoint = studio["endpoint"]
    url = presign(studio, ExpiresInSeconds=60, SessionExpirationDurationInSeconds=3600, SpaceName="churn")
    if endpoint is None:
        assert url.startswith(f"https://{studio['domain_id']}.studio.us-east-1.sagemaker.aws/auth?token=")
    else:
        assert url.startswith(f"{endpoint}/_sandbox/studio/auth?token=")
    status, page, headers = open_url(endpoint, url)
    assert status == 200
    assert "<title>Studio (sandbox)</title>" in page
    assert f'<dd id="studio-domain">research ({studio["domain_id"]})</dd>' in page
    assert '<dd id="studio-profile">maria</dd>' in page
    assert '<dd id="studio-space">churn</dd>' in page
    assert "<script" not in page and "style" not in page  # renders under any Content-Security-Policy
    if endpoint is not None:
        assert headers["Content-Type"].startswith("text/html")
        assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_the_session_length_is_the_one_asked_for(studio: dict[str, Any]) -> None:
    url = presign(studio, SessionExpirationDurationInSeconds=1800)
    opened = clock.now()  # the loopback server runs in this process, on the same clock
    status, page, _ = open_url(studio["endpoint"], url)
    assert status == 200 and '<dd id="studio-space">none (the profile\'s home)</dd>' in page
    ends = datetime.fromisoformat(page.split('<dd id="studio-session-ends">')[1].split("<")[0])
    assert 1799 <= (ends - opened).total_seconds() <= 1802


def test_a_token_opens_once(studio: dict[str, Any]) -> None:
    url = presign(studio, ExpiresInSeconds=300)
    assert open_url(studio["endpoint"], url)[0] == 200
    status, page, _ = open_url(studio["endpoint"], url)
    assert status == 403
    assert 'data-reason="used"' in page and "already been used" in page


def test_a_token_is_refused_after_its_expiry(studio: dict[str, Any]) -> None:
    fresh = presign(studio, ExpiresInSeconds=5)
    late = presign(studio, ExpiresInSeconds=5)
    advance(studio["endpoint"], 4)
    assert open_url(studio["endpoint"], fresh)[0] == 200  # still inside its 5 seconds
    advance(studio["endpoint"], 1)
    status, page, _ = open_url(studio["endpoint"], late)
    assert status == 403
    assert 'data-reason="expired"' in page and "valid for 5 seconds" in page


def test_an_unknown_token_is_refused(studio: dict[str, Any]) -> None:
    url = presign(studio)
    forged = url.split("token=")[0] + "token=not-a-token"
    status, page, _ = open_url(studio["endpoint"], forged)
    assert status == 403 and 'data-reason="unknown"' in page and "not valid" in page
    assert open_url(studio["endpoint"], url)[0] == 200  # the forgery did not spend the real token


def test_expiry_and_session_outside_aws_ranges_are_refused_by_the_sandbox_too(studio: dict[str, Any]) -> None:
    unchecked = boto3.client(  # botocore checks some minimums itself; the sandbox must refuse on its own
        "sagemaker",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(parameter_validation=False),
        **({"endpoint_url": studio["endpoint"]} if studio["endpoint"] else {}),
    )
    for extra in (
        {"ExpiresInSeconds": 4},
        {"ExpiresInSeconds": 301},
        {"SessionExpirationDurationInSeconds": 1799},
        {"SessionExpirationDurationInSeconds": 43201},
    ):
        with pytest.raises(ClientError) as exc:
            unchecked.create_presigned_domain_url(DomainId=studio["domain_id"], UserProfileName="maria", **extra)
        assert exc.value.response["Error"]["Code"] == "ValidationException", extra


def test_the_page_refuses_other_methods_without_spending_the_token(sandbox_server: str) -> None:
    sm = sagemaker(sandbox_server)
    domain_id = sm.create_domain(
        DomainName="research", AuthMode="IAM", DefaultUserSettings={"ExecutionRole": ROLE}, **placement()
    )["DomainId"]
    sm.create_user_profile(DomainId=domain_id, UserProfileName="maria")
    url = sm.create_presigned_domain_url(DomainId=domain_id, UserProfileName="maria")["AuthorizedUrl"]
    for method in ("POST", "HEAD"):
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10)  # noqa: S310
        assert exc.value.code == 405
    assert open_url(sandbox_server, url)[0] == 200


def test_a_reset_forgets_every_token(sandbox_server: str) -> None:
    sm = sagemaker(sandbox_server)
    studio = {"sm": sm, "endpoint": sandbox_server}
    studio["domain_id"] = sm.create_domain(
        DomainName="research", AuthMode="IAM", DefaultUserSettings={"ExecutionRole": ROLE}, **placement()
    )["DomainId"]
    sm.create_user_profile(DomainId=studio["domain_id"], UserProfileName="maria")
    url = presign(studio)
    with urllib.request.urlopen(  # noqa: S310
        urllib.request.Request(f"{sandbox_server}/_sandbox/reset", method="POST"), timeout=10
    ):
        pass
    assert open_url(sandbox_server, url)[0] == 403
