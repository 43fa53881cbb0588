"""Login throttling (django-axes): who is counted, and the answer a locked-out login gets.

A login is counted by user name and client address together, so one attacker cannot lock everybody out from one
address and a person is not locked out by someone else's typos elsewhere. Pages get a page, the API gets JSON, both
with HTTP 429 and ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework import parsers, renderers, serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import apitokens
from portal.api import service_call
from portal.token_views import password_token_schema


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' check before the password backends. A sign-in without a request (a management command, a shell) has
    no client to throttle and is passed on to the next backend instead of being refused."""

    def authenticate(self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: behind the TLS proxy (BEHIND_TLS_PROXY), the one the proxy appended last to
    X-Forwarded-For (the entries before it are whatever the client sent); otherwise the socket's peer."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.BEHIND_TLS_PROXY and forwarded.strip():
        return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR")


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return (
        f"Too many failed sign-ins for this user name from your address: signing in is locked for {minutes} "
        f"minutes. Wait, or ask a platform admin to unlock it."
    )


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    message = lockout_message()
    if request.path.startswith("/api/") and not request.path.startswith("/api/auth/login/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


class BoundedAuthTokenSerializer(AuthTokenSerializer):
    """A user name no longer than Django's (150): a longer one is refused as bad input before the login is tried
    (the failed-login record could not store it). ``name`` and ``expires_in_days`` describe the token made."""

    username = serializers.CharField(label="Username", write_only=True, max_length=150)
    name = serializers.CharField(max_length=100, required=False)
    expires_in_days = serializers.IntegerField(min_value=1, max_value=3650, required=False)


class ThrottledObtainAuthToken(APIView):
    """A new portal API token (:mod:`portal.apitokens`: named, expiring, hashed at rest) for a user name and
    password, with the password check seeing Django's own request: the throttle marks a locked-out login on that
    request, which is where its middleware looks (DRF's wrapper would hide the mark)."""

    throttle_classes = ()
    permission_classes = ()
    authentication_classes = ()
    parser_classes = (parsers.FormParser, parsers.MultiPartParser, parsers.JSONParser)
    renderer_classes = (renderers.JSONRenderer,)
    serializer_class = BoundedAuthTokenSerializer

    @password_token_schema
    def post(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        serializer = self.serializer_class(data=request.data, context={"request": request._request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token, key = service_call(
            apitokens.do_create_token,
            user,
            name=serializer.validated_data.get("name") or "API login",
            expires_in_days=serializer.validated_data.get("expires_in_days"),
            actor=user,
        )
        answer = Response({"token": key, "name": token.name, "expires_at": token.expires_at})
        answer["Cache-Control"] = "no-store"
        return answer


obtain_auth_token = ThrottledObtainAuthToken.as_view()
