"""Getting an access token: OAuth 2.0 JWT bearer or client credentials.

Both flows post a form to the org's token endpoint and get back an access
token and the instance to call. Neither the secret, the signed assertion
nor the token is ever logged or put into an error message.
"""

import logging
import time
from dataclasses import dataclass, field

import jwt
import requests

from entatio.crm.config import SalesforceConfig
from entatio.crm.http import SalesforceSession

logger = logging.getLogger(__name__)

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Salesforce accepts an assertion for at most three minutes.
ASSERTION_SECONDS = 180


class AuthenticationFailed(RuntimeError):
    """No token; the message says what to check. Transient if unreachable."""

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class AccessToken:
    instance_url: str
    token: str = field(repr=False)


def request_access_token(
    http: SalesforceSession, config: SalesforceConfig
) -> AccessToken:
    """A fresh access token by the configured flow."""
    form = _jwt_form(config) if config.flow == "jwt-bearer" else _secret_form(config)
    url = config.login_url.rstrip("/") + "/services/oauth2/token"
    try:
        response = http.post(url, data=form, headers={"Accept": "application/json"})
    except requests.RequestException as error:
        raise AuthenticationFailed(
            f"Cannot reach the Salesforce token endpoint ({type(error).__name__}); "
            "check login_url and the network.",
            transient=True,
        ) from None

    body = _json_of(response)
    if response.status_code != 200 or "access_token" not in body:
        raise AuthenticationFailed(
            f"Salesforce refused the {config.flow} login "
            f"({body.get('error', response.status_code)}: "
            f"{body.get('error_description', 'no reason given')}); check the "
            "connected app, its client id and the user's approval."
        )
    logger.info("Signed in to Salesforce by %s", config.flow)
    return AccessToken(instance_url=body["instance_url"], token=body["access_token"])


def _jwt_form(config: SalesforceConfig) -> dict[str, str]:
    claims = {
        "iss": config.client_id,
        "sub": config.username,
        "aud": config.audience or config.login_url.rstrip("/"),
        "exp": int(time.time()) + ASSERTION_SECONDS,
    }
    assertion = jwt.encode(claims, config.signing_key(), algorithm="RS256")
    return {"grant_type": JWT_BEARER, "assertion": assertion}


def _secret_form(config: SalesforceConfig) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": config.client_id,
        "client_secret": config.client_secret,
    }


def _json_of(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
