"""Unit tests: signing, configuration, splitting, buttons, de-duplication, tokens, forgetting."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from typing import Any

import pytest
from rasa.core.tracker_store import (
    AwaitableTrackerStore,
    FailSafeTrackerStore,
    InMemoryTrackerStore,
    SQLTrackerStore,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.channels.dedup import InMemoryDeduplicator, RedisDeduplicator
from bot.channels.forget import forget_sender
from bot.channels.zalo import ZaloInput, event_user_id, sign_event
from bot.channels.zalo_output import split_text, zalo_button
from bot.channels.zalo_tokens import TokenPair, TokenStore


def test_sign_event_matches_zalo_formula() -> None:
    body = '{"event_name":"user_send_text","timestamp":"1700000000000"}'
    expected = hashlib.sha256(("123" + body + "1700000000000" + "secret").encode("utf-8")).hexdigest()
    assert sign_event("123", body, "1700000000000", "secret") == "mac=" + expected
    assert sign_event("123", body.encode(), 1700000000000, "secret") == "mac=" + expected


def test_verify_reasons() -> None:
    channel = ZaloInput(app_id="1", oa_secret_key="k")
    now = 1_700_000_000_000
    event = {"app_id": "1", "timestamp": str(now)}
    raw = json.dumps(event).encode()
    good = sign_event("1", raw, now, "k")
    assert channel.verify(raw, event, good, now_ms=now) is None
    assert channel.verify(raw, event, good.upper().replace("MAC=", "mac="), now_ms=now) is None
    assert channel.verify(raw, event, "mac=00", now_ms=now) == "bad signature"
    assert channel.verify(raw, event, "mác=ü", now_ms=now) == "bad signature"
    assert channel.verify(raw, event, good, now_ms=now + 301_000) == "stale timestamp"
    assert channel.verify(raw, {"app_id": "2", "timestamp": str(now)}, good, now) == "app_id mismatch"
    assert channel.verify(raw, {"app_id": "1"}, good, now) == "missing or invalid timestamp"


def test_from_credentials_falls_back_to_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("ZALO_APP_ID", "env-app")
    monkeypatch.setenv("ZALO_OA_SECRET_KEY", "env-oa")
    monkeypatch.setenv("ZALO_API_BASE", "http://api.local")
    monkeypatch.setenv("ZALO_TOKEN_STORE", str(tmp_path / "t.json"))
    channel = ZaloInput.from_credentials({"app_id": "", "oa_secret_key": None, "max_age_seconds": "60"})
    assert channel.app_id == "env-app" and channel.oa_secret_key == "env-oa"
    assert channel.client.api_base == "http://api.local"
    assert channel.client.tokens.oauth_base == "https://oauth.zaloapp.com"
    assert channel.client.tokens.store.path == str(tmp_path / "t.json")
    assert channel.max_age_ms == 60_000
    assert ZaloInput.from_credentials(None).name() == "zalo"


def test_credentials_yml_with_env_references(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from rasa.core.run import create_http_input_channels

    keys = ["APP_ID", "OA_SECRET_KEY", "APP_SECRET", "ACCESS_TOKEN", "REFRESH_TOKEN", "TOKEN_STORE"]
    for key in keys:
        monkeypatch.setenv(f"ZALO_{key}", f"v-{key.lower()}")
    monkeypatch.setenv("ZALO_TOKEN_STORE", str(tmp_path / "tokens.json"))
    lines = [f"  {k.lower()}: ${{ZALO_{k}}}" for k in keys]
    (tmp_path / "credentials.yml").write_text(
        "bot.channels.zalo.ZaloInput:\n" + "\n".join(lines) + "\n", encoding="utf-8"
    )
    (channel,) = create_http_input_channels(None, str(tmp_path / "credentials.yml"))
    assert isinstance(channel, ZaloInput)
    assert channel.app_id == "v-app_id" and channel.oa_secret_key == "v-oa_secret_key"
    assert channel.client.tokens.store.pair.refresh_token == "v-refresh_token"


def test_event_user_id() -> None:
    assert event_user_id({"sender": {"id": 42}}) == "42"
    assert event_user_id({"follower": {"id": "f"}}) == "f"
    assert event_user_id({"user_id": "x"}) == "x"
    assert event_user_id({}) is None


def test_split_text_boundaries() -> None:
    assert split_text("ngắn") == ["ngắn"]
    assert split_text("  ") == []
    paragraphs = "A" * 1500 + "\n\n" + "B" * 1500
    assert split_text(paragraphs) == ["A" * 1500, "B" * 1500]
    sentences = ("Một câu. " * 400).strip()
    chunks = split_text(sentences)
    assert all(len(c) <= 2000 and c.endswith(".") for c in chunks)
    assert " ".join(chunks) == sentences
    words = ("chữ " * 1000).strip()
    assert all(len(c) <= 2000 and not c.endswith(" ") for c in split_text(words))
    blob = "x" * 4500
    assert [len(c) for c in split_text(blob)] == [2000, 2000, 500]


def test_zalo_button_mapping() -> None:
    assert zalo_button({"title": "Gọi", "payload": "tel:+84 (28) 3823-4567"}) == {
        "title": "Gọi",
        "type": "oa.open.phone",
        "payload": {"phone_code": "+842838234567"},
    }
    assert zalo_button({"title": "Mail", "payload": "mailto:a@b.vn"})["type"] == "oa.open.url"
    assert zalo_button({"title": "Web", "payload": "HTTP://x.vn"})["payload"] == {"url": "HTTP://x.vn"}
    assert zalo_button({"title": "Hỏi", "payload": '/ask_contact{"topic":"x"}'}) == {
        "title": "Hỏi",
        "type": "oa.query.show",
        "payload": '/ask_contact{"topic":"x"}',
    }


@pytest.mark.asyncio
async def test_in_memory_dedup_lru_and_ttl() -> None:
    dedup = InMemoryDeduplicator(max_size=3, ttl_seconds=3600)
    assert [await dedup.first_seen(k) for k in "abca"] == [True, True, True, False]
    await dedup.first_seen("d")  # evicts "a"
    assert len(dedup) == 3 and await dedup.first_seen("a") is True
    short = InMemoryDeduplicator(ttl_seconds=0)
    assert await short.first_seen("x") and await short.first_seen("x")


@pytest.mark.asyncio
async def test_redis_dedup_fails_open_when_redis_is_down() -> None:
    dedup = RedisDeduplicator("redis://127.0.0.1:1/0")
    assert await dedup.first_seen("k") is True
    await dedup.close()


def test_token_store_atomic_write_and_seed(tmp_path: Any) -> None:
    path = str(tmp_path / "sub" / "tokens.json")
    store = TokenStore(path, "AT-1", "RT-1")
    assert store.pair == TokenPair("AT-1", "RT-1", None) and not store.pair.is_expired()
    store.save(TokenPair("AT-2", "RT-2", time.time() + 100))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p for p in os.listdir(tmp_path / "sub") if p.startswith(".zalo-tokens-")] == []
    assert TokenStore(path, "AT-1", "RT-1").pair.refresh_token == "RT-2"  # file wins
    assert TokenStore(path, "AT-9", "RT-9").pair.refresh_token == "RT-9"  # new seed wins
    assert TokenPair("", "RT", None).is_expired()
    assert TokenPair("AT", "RT", time.time() - 1).is_expired()


@pytest.mark.asyncio
async def test_forget_sender_in_memory() -> None:
    store = InMemoryTrackerStore(Domain.empty())
    for sender in ("a", "b"):
        await store.save(DialogueStateTracker.from_events(sender, [UserUttered("hi")]))
    wrapped = FailSafeTrackerStore(AwaitableTrackerStore(store))
    assert await forget_sender(wrapped, "a") is True
    assert list(await store.keys()) == ["b"]
    assert await forget_sender(store, "a") is False


@pytest.mark.asyncio
async def test_forget_sender_sql(tmp_path: Any) -> None:
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "rasa.db"))
    for sender in ("a", "b"):
        await store.save(DialogueStateTracker.from_events(sender, [UserUttered("hi"), UserUttered("again")]))
    assert sorted(await store.keys()) == ["a", "b"]
    assert await forget_sender(store, "a") is True
    assert await store.keys() == ["b"]
    assert await store.retrieve("a") is None
    reopened = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "rasa.db"))
    assert await reopened.keys() == ["b"]
    assert await forget_sender(store, "a") is False


def test_one_redis_url_shares_dedup_tokens_and_reply_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.channels.zalo_redis import RedisReplyQuota, RedisTokenStore

    monkeypatch.setenv("ZALO_APP_ID", "app")
    monkeypatch.setenv("ZALO_DEDUP_REDIS_URL", "redis://127.0.0.1:6379/4")  # the production profile's
    monkeypatch.setenv("ZALO_FREE_REPLIES", "5")
    monkeypatch.setenv("ZALO_FREE_REPLY_HOURS", "24")
    monkeypatch.setenv("ZALO_REPLY_LINK", "both")
    channel = ZaloInput.from_credentials({"token_store": ""})
    assert isinstance(channel.dedup, RedisDeduplicator)
    assert isinstance(channel.client.tokens.store, RedisTokenStore)
    assert channel.client.tokens.store.key == "zalo:tokens:app"
    assert isinstance(channel.quota, RedisReplyQuota)
    assert (channel.quota.limit, channel.quota.window) == (5, 24 * 3600)
    assert channel.client.reply_link == "both"
    monkeypatch.setenv("ZALO_TOKEN_STORE", "/tmp/zalo-tokens.json")  # an explicit file wins
    assert isinstance(ZaloInput.from_credentials({}).client.tokens.store, TokenStore)
    monkeypatch.delenv("ZALO_DEDUP_REDIS_URL")
    monkeypatch.delenv("ZALO_TOKEN_STORE")
    plain = ZaloInput.from_credentials({})
    assert isinstance(plain.dedup, InMemoryDeduplicator) and not plain.quota.shared
    assert not plain.client.tokens.store.shared
