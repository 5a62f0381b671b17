"""The Rasa side of a handoff (bot/handoff.py, bot/channels/handoff.py) on real Rasa trackers:
staff take / reply / close, Zalo's reply window, the silence of handed-off turns and the timeout."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import handoff
from bot.channels.guard import button_payloads, sanitise
from bot.channels.handoff import act

pytestmark = pytest.mark.asyncio
DOMAIN = Domain.load(str(Path(__file__).resolve().parents[2] / "domain"))
DAY = 86400.0


class Processor:
    """Records the prediction loop run after a timed-out handoff."""

    def __init__(self) -> None:
        self.ran: list[str] = []

    async def _run_prediction_loop(self, output: Any, tracker: DialogueStateTracker) -> None:
        self.ran.append(tracker.latest_message.text)


class Agent:
    """What bot/handoff.py uses of rasa's Agent, with Rasa's own stores and response generator."""

    def __init__(self) -> None:
        self.lock_store = InMemoryLockStore()
        self.tracker_store = InMemoryTrackerStore(DOMAIN)
        self.nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
        self.processor = Processor()


async def handed_off(agent: Agent, sender: str, channel: str, age: float) -> None:
    """A conversation handed off `age` seconds ago on `channel`."""
    at = time.time() - age
    events = [
        UserUttered("cho tôi gặp cán bộ", input_channel=channel, timestamp=at),
        SlotSet("handoff", "waiting", timestamp=at),
        ConversationPaused(timestamp=at),
    ]
    await agent.tracker_store.save(DialogueStateTracker.from_events(sender, events, DOMAIN.slots))


def fields(sender: str, text: str = "") -> dict[str, str]:
    return {"sender": sender, "staff": "canbo-lan", "text": text}


async def test_take_reply_close_are_written_to_the_tracker() -> None:
    agent = Agent()
    await handed_off(agent, "u1", "rest", 60)
    status, body = await act(agent, [], "take", fields("u1"))
    assert status == 200 and body["delivered"] is False and body["reason"] == "no_push"  # REST cannot push
    tracker = await agent.tracker_store.retrieve("u1")
    assert tracker.get_slot("handoff") == "active" and tracker.get_slot("handoff_staff") == "canbo-lan"
    taken = [e for e in tracker.events if isinstance(e, BotUttered)][-1]
    assert "canbo-lan" in taken.text and taken.metadata["utter_action"] == "utter_handoff_taken"
    status, _ = await act(agent, [], "reply", fields("u1", "Hồ sơ của anh đang được xét."))
    tracker = await agent.tracker_store.retrieve("u1")
    reply = [e for e in tracker.events if isinstance(e, BotUttered)][-1]
    assert (
        status == 200
        and reply.text == "Hồ sơ của anh đang được xét."
        and reply.metadata["handoff_staff"] == "canbo-lan"
    )
    assert tracker.is_paused()
    status, _ = await act(agent, [], "close", fields("u1"))
    tracker = await agent.tracker_store.retrieve("u1")
    assert status == 200 and not tracker.is_paused() and tracker.get_slot("handoff") is None
    back = [e for e in tracker.events if isinstance(e, BotUttered)][-1]
    assert back.metadata["utter_action"] == "utter_handoff_back"
    assert (
        isinstance(tracker.events[-1], ActionExecuted) and tracker.events[-1].action_name == "action_listen"
    )
    assert (await act(agent, [], "reply", fields("u1", "muộn")))[1] == {"error": "not_handed_off"}
    assert (await act(agent, [], "close", fields("nobody")))[0] == 404
    assert (await act(agent, [], "reply", fields("u1", "")))[0] == 400


async def test_outside_zalos_reply_window_a_reply_is_refused_and_says_why() -> None:
    agent = Agent()
    await handed_off(agent, "zalo-old", "zalo", 8 * DAY)
    status, body = await act(agent, [], "reply", fields("zalo-old", "Chào anh"))
    assert status == 409 and body["error"] == "zalo_window" and body["hours"] == 168
    assert not [
        e for e in (await agent.tracker_store.retrieve("zalo-old")).events if isinstance(e, BotUttered)
    ]
    await handed_off(agent, "zalo-new", "zalo", 3600)
    assert (await act(agent, [], "reply", fields("zalo-new", "Chào anh")))[0] == 200


async def test_a_handed_off_turn_is_silent_until_the_inactivity_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    agent = Agent()
    await handed_off(agent, "u2", "rest", 3 * 3600)
    tracker = await agent.tracker_store.retrieve("u2")
    tracker.update(UserUttered("còn đó không?", input_channel="rest", timestamp=time.time() - 3 * 3600 + 60))
    await agent.tracker_store.save(tracker)
    output = CollectingOutputChannel()
    assert await handoff.after_silent_turn("u2", output, agent)  # silent: no apology
    assert output.messages == [] and agent.processor.ran == []
    assert not await handoff.after_silent_turn("someone-else", output, agent)  # not handed off: apology
    tracker = await agent.tracker_store.retrieve("u2")
    tracker.update(UserUttered("An Giang có bao nhiêu sản phẩm OCOP?", input_channel="rest"))  # 3 h later
    await agent.tracker_store.save(tracker)
    monkeypatch.setenv(handoff.TIMEOUT_ENV, "30")
    assert await handoff.after_silent_turn("u2", output, agent)
    tracker = await agent.tracker_store.retrieve("u2")
    assert not tracker.is_paused() and agent.processor.ran == ["An Giang có bao nhiêu sản phẩm OCOP?"]
    back = DOMAIN.responses["utter_handoff_back_timeout"][0]["text"]
    assert [m["text"] for m in output.messages] == [back]  # in this turn's reply


def test_timeout_counts_from_the_last_message_of_anyone() -> None:
    at = 1_000_000.0
    events = [
        UserUttered("a", timestamp=at),
        ConversationPaused(timestamp=at),
        BotUttered("staff", timestamp=at + 600),
    ]
    tracker = DialogueStateTracker.from_events("t", [*events, UserUttered("b", timestamp=at + 600 + 1799)])
    assert not handoff.timed_out(tracker, 1800)
    tracker = DialogueStateTracker.from_events("t", [*events, UserUttered("b", timestamp=at + 600 + 1801)])
    assert handoff.timed_out(tracker, 1800) and not handoff.timed_out(tracker, 0)


def test_the_offer_buttons_keep_their_intent_and_nothing_else_does() -> None:
    assert {"/handoff_confirm", "/handoff_decline"} <= button_payloads()
    assert sanitise("/handoff_confirm") == "/handoff_confirm"
    assert sanitise("/handoff_confirm{}") == "handoff_confirm{}" and sanitise("/restart") == "restart"
