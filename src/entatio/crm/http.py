"""The one HTTP client the CRM connector uses: a timeout on every request.

simple-salesforce sends through a ``requests`` session it is given; this one
adds the configured timeout to each request and follows no redirects, so a
response cannot send the connector, and its access token, somewhere else.
"""

from typing import Any

import requests

from entatio.crm.config import SalesforceConfig


class SalesforceSession(requests.Session):
    def __init__(self, timeout: float, verify: str | bool = True) -> None:
        super().__init__()
        self.timeout = timeout
        self.verify = verify
        self.max_redirects = 0

    def request(  # type: ignore[override]
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        # Passed per request: requests lets REQUESTS_CA_BUNDLE override a
        # session's own verify setting otherwise.
        kwargs.setdefault("verify", self.verify)
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)


def salesforce_session(config: SalesforceConfig) -> SalesforceSession:
    return SalesforceSession(config.timeout, config.ca_bundle or True)
