"""Who may see the dashboard: loopback-only unless HTTP basic auth is configured (constant-time compared)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import secrets

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send


def is_loopback(host: str) -> bool:
    """Whether an address to listen on is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or anything else: assume it is exposed


def parse_basic_auth(value: str) -> tuple[str, str]:
    """"user:password" as a pair; ValueError when either part is empty."""
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("expected user:password, both non-empty")
    return user, password


class BasicAuth:
    """ASGI middleware: every HTTP request needs these basic-auth credentials, else 401."""

    def __init__(self, app: ASGIApp, user: str, password: str) -> None:
        self.app, self.user, self.password = app, user.encode(), password.encode()

    def allowed(self, scope: Scope) -> bool:
        header = dict(scope.get("headers") or []).get(b"authorization", b"")
        scheme, _, encoded = header.partition(b" ")
        if scheme.lower() != b"basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).partition(b":")
        except (ValueError, binascii.Error):
            return False
        return secrets.compare_digest(user, self.user) & secrets.compare_digest(password, self.password)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.allowed(scope):
            refusal = PlainTextResponse("authentication required", 401, headers={"WWW-Authenticate": 'Basic realm="sweepq"'})
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)
