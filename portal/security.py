"""The Content-Security-Policy middleware, with the one exception third-party pages need.

The portal's own pages get the strict policy of ``CONTENT_SECURITY_POLICY`` (no inline script or style). The HTML
pages of other packages under ``/api/`` (DRF's browsable API, the Swagger UI of drf-spectacular) set inline
styles in their templates: they alone may use inline *styles*. Inline scripts stay refused everywhere.
"""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware
from django.http import HttpRequest
from django.http.response import HttpResponseBase

THIRD_PARTY_HTML_PREFIX = "/api/"


class PortalCSPMiddleware(CSPMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        is_html = response.get("Content-Type", "").startswith("text/html")
        if (
            is_html
            and request.path.startswith(THIRD_PARTY_HTML_PREFIX)
            and getattr(response, "_csp_update", None) is None
        ):
            response._csp_update = {"style-src": [UNSAFE_INLINE]}  # type: ignore[attr-defined]
        return super().process_response(request, response)
