"""Errors to Sentry (sentry-sdk) from the app, the API and the flows, when SENTRY_DSN is set.

``init_sentry(settings, service)`` is called once per process by each front door. Every event
carries the release, the environment, the service and the request id of the request being
served, and is scrubbed before it leaves the process (``scrub_event``): values under a key that
names a secret (password, token, cookie, authorization, signature, secret, api key, DSN...) are
replaced, and secrets recognisable by their shape (bearer tokens, JWTs, Stripe keys and webhook
secrets, passwords inside URLs) are masked wherever they appear: messages, breadcrumbs, local
variables, headers. Request bodies and cookies are never sent (``send_default_pii=False``,
``max_request_body_size="never"``).
"""

from __future__ import annotations

import logging
import re
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from core.logs import current_request_id
from core.settings import Settings

logger = logging.getLogger(__name__)

FILTERED = "[Filtered]"
_SECRET_KEY = re.compile(
    r"pass(word|wd)?|secret|token|cookie|authori[sz]ation|signature|api[-_]?key|apikey|"
    r"session|credential|private[-_]?key|\bdsn\b|_dsn|csrf|xsrf|jwt",
    re.IGNORECASE,
)
_SECRET_VALUES = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{6,}"), r"\1 " + FILTERED),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]+"), FILTERED),
    (re.compile(r"\b(sk|rk|pk)_(live|test)_[A-Za-z0-9]{6,}"), FILTERED),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]{6,}"), FILTERED),
    # "password": "...", password=..., token: ... inside text (a JSON body, a query, a cookie)
    (
        re.compile(
            r"""(?i)((?:pass(?:word|wd)?|secret|token|session|api[-_]?key|signature|"""
            r"""authorization|cookie|csrf)[\w\-]*["']?\s*[:=]\s*)"""
            r"""("[^"]*"|'[^']*'|[^\s,;&}"']+)"""
        ),
        r"\1" + '"' + FILTERED + '"',
    ),
    # scheme://user:password@host -> scheme://user:[Filtered]@host
    (re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^:/@\s]*:)[^@/\s]+@"), r"\1" + FILTERED + "@"),
]


def release() -> str:
    try:
        return f"faceit-ai@{version('faceit-ai')}"
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "faceit-ai@unknown"


def scrub_text(text: str) -> str:
    for pattern, replacement in _SECRET_VALUES:
        text = pattern.sub(replacement, text)
    return text


def scrub(value: Any) -> Any:
    """A copy of ``value`` with secrets replaced (dicts, lists, tuples and strings, any depth)."""
    if isinstance(value, dict):
        return {
            key: FILTERED if isinstance(key, str) and _SECRET_KEY.search(key) else scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        # headers arrive as [name, value] pairs
        if len(value) == 2 and isinstance(value[0], str) and _SECRET_KEY.search(value[0]):
            return [value[0], FILTERED]
        return [scrub(item) for item in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def scrub_event(event: Any, _hint: Any = None) -> Any:
    """Sentry's ``before_send`` / ``before_breadcrumb``: the event with every secret replaced."""
    scrubbed = scrub(event)
    request_id = current_request_id()
    if request_id and isinstance(scrubbed, dict):
        scrubbed.setdefault("tags", {})["request_id"] = request_id
    return scrubbed


def init_sentry(settings: Settings, service: str) -> bool:
    """Start the Sentry SDK for this process when SENTRY_DSN is set; True when it started."""
    if settings.sentry_dsn is None:
        return False
    import sentry_sdk

    if sentry_sdk.get_client().is_active():  # a second front door in the same process
        return True
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        release=settings.sentry_release or release(),
        environment=settings.environment,
        server_name=service,
        send_default_pii=False,
        max_request_body_size="never",
        traces_sample_rate=settings.sentry_traces_sample_rate,
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        before_breadcrumb=scrub_event,
    )
    sentry_sdk.set_tag("service", service)
    logger.info("sentry enabled", extra={"event": "sentry_enabled", "service": service})
    return True
