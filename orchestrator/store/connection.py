"""Redis connections built from settings: credentials and TLS come from the environment, never from code."""

from __future__ import annotations

import ssl
import urllib.parse
from typing import Any

import redis

from orchestrator.settings import Settings

_CERT_REQS = {"required": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL, "none": ssl.CERT_NONE}


def effective_url(settings: Settings) -> str:
    """The Redis URL with SWEEPQ_REDIS_USERNAME/PASSWORD applied (they override the URL's own)."""
    url = urllib.parse.urlsplit(settings.redis_url)
    if settings.redis_password is None and settings.redis_username is None:
        return settings.redis_url
    user = settings.redis_username if settings.redis_username is not None else (url.username or "")
    password = settings.redis_password.get_secret_value() if settings.redis_password else (url.password or "")
    auth = urllib.parse.quote(user, safe="")
    if password:
        auth += ":" + urllib.parse.quote(password, safe="")
    host = url.hostname or "127.0.0.1"
    netloc = f"{auth}@{host}" + (f":{url.port}" if url.port else "")
    return urllib.parse.urlunsplit((url.scheme, netloc, url.path, url.query, url.fragment))


def ssl_options(settings: Settings) -> dict[str, Any] | None:
    """TLS options for rediss:// URLs, in the form both redis-py and Celery accept; None for plain TCP."""
    if not settings.redis_url.startswith("rediss://"):
        return None
    options: dict[str, Any] = {"ssl_cert_reqs": _CERT_REQS[(settings.redis_ssl_cert_reqs or "required").lower()]}
    if settings.redis_ssl_ca_certs:
        options["ssl_ca_certs"] = settings.redis_ssl_ca_certs
    return options


def redis_client(settings: Settings) -> redis.Redis:
    """A client for the ledger and streams; bytes in and out (values are JSON we decode ourselves)."""
    return redis.Redis.from_url(
        effective_url(settings),
        health_check_interval=30,
        socket_keepalive=True,
        **(ssl_options(settings) or {}),
    )
