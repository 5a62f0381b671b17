"""Zalo webhook event helpers: signature, user id, event names, settings."""

from __future__ import annotations

import hashlib
import os
from typing import Any

SIGNATURE_HEADER = "X-ZEvent-Signature"
UNSUPPORTED_MEDIA_INTENT = "/zalo_unsupported_media"
FOLLOW_INTENT = "/greet"
MEDIA_EVENTS = frozenset(
    "user_send_" + kind
    for kind in (
        "image",
        "sticker",
        "file",
        "audio",
        "video",
        "gif",
        "location",
        "link",
        "business_card",
    )
)
IGNORED_EVENTS = frozenset({"user_received_message", "user_seen_message", "unfollow"})
# credentials.yml key -> environment variable used when the key is missing/empty.
ENV_FALLBACKS = {
    "app_id": "ZALO_APP_ID",
    "oa_secret_key": "ZALO_OA_SECRET_KEY",
    "app_secret": "ZALO_APP_SECRET",
    "access_token": "ZALO_ACCESS_TOKEN",
    "refresh_token": "ZALO_REFRESH_TOKEN",
    "token_store": "ZALO_TOKEN_STORE",
    "api_base": "ZALO_API_BASE",
    "oauth_base": "ZALO_OAUTH_BASE",
    "max_age_seconds": "ZALO_MAX_AGE_SECONDS",
    "dedup_redis_url": "ZALO_DEDUP_REDIS_URL",
    "redis_url": "ZALO_REDIS_URL",
    "reply_link": "ZALO_REPLY_LINK",
    "free_replies": "ZALO_FREE_REPLIES",
    "free_reply_hours": "ZALO_FREE_REPLY_HOURS",
}


def sign_event(app_id: str, body: str | bytes, timestamp: str | int, oa_secret_key: str) -> str:
    """Return Zalo's ``mac=`` signature: sha256(app_id + body + timestamp + OA secret)."""
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    digest = hashlib.sha256(
        str(app_id).encode("utf-8")
        + raw
        + str(timestamp).encode("utf-8")
        + str(oa_secret_key).encode("utf-8")
    ).hexdigest()
    return "mac=" + digest


def event_user_id(event: dict[str, Any]) -> str | None:
    """The OA-scoped id of the user behind an event (sender/follower/user)."""
    for holder in ("sender", "follower", "user"):
        value = event.get(holder)
        if isinstance(value, dict) and value.get("id") not in (None, ""):
            return str(value["id"])
    value = event.get("user_id")
    return str(value) if value not in (None, "") else None


def setting(credentials: dict[str, Any], key: str, default: Any = None) -> Any:
    """Credential value, else its environment variable, else ``default``."""
    value = credentials.get(key)
    if value in (None, ""):
        value = os.environ.get(ENV_FALLBACKS.get(key, ""), "")
    return default if value in (None, "") else value


def dedup_key(event: dict[str, Any]) -> str:
    """msg_id when present, else event name + user + timestamp."""
    message = event.get("message")
    msg_id = message.get("msg_id") if isinstance(message, dict) else None
    if msg_id not in (None, ""):
        return f"msg:{msg_id}"
    return f"evt:{event.get('event_name')}:{event_user_id(event)}:{event.get('timestamp')}"


def event_metadata(event: dict[str, Any]) -> dict[str, Any]:
    """The ``metadata`` of the Rasa message made from a Zalo event."""
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    attachments = message.get("attachments") or []
    return {
        "zalo": {
            "event_name": event.get("event_name"),
            "msg_id": message.get("msg_id"),
            "timestamp": event.get("timestamp"),
            "user_id_by_app": event.get("user_id_by_app"),
            "attachment_types": [a.get("type") for a in attachments if isinstance(a, dict)],
        }
    }
