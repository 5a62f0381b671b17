"""Threshold clustering of unanswered questions (deterministic, no drift)."""

from __future__ import annotations

import numpy as np

from console.clusters import cluster, group_turns, normalize
from console.tracker import Turn
from tests.staff.conftest import fake_embed


def unit(*rows: list[float]) -> np.ndarray:
    a = np.asarray(rows, dtype=np.float32)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def test_similar_rows_join_and_others_lead() -> None:
    vecs = unit([1, 0, 0], [0.99, 0.1, 0], [0, 1, 0], [0, 0.98, 0.15], [0, 0, 1])
    assert cluster(vecs, 0.95) == [[0, 1], [2, 3], [4]]
    assert cluster(vecs, 0.999) == [[0], [1], [2], [3], [4]]


def test_no_chaining_through_the_group() -> None:
    """b is close to a, c close to b but not to a: c does not join a's group."""
    a, b, c = [1.0, 0.0], [np.cos(0.3), np.sin(0.3)], [np.cos(0.6), np.sin(0.6)]
    assert cluster(unit(a, b, c), float(np.cos(0.35))) == [[0, 1], [2]]


def test_deterministic() -> None:
    rng = np.random.default_rng(7)
    vecs = unit(*rng.normal(size=(40, 8)).tolist())
    assert cluster(vecs, 0.5) == cluster(vecs.copy(), 0.5)


def test_groups_count_repeats_dates_and_skip_known() -> None:
    turns = [
        Turn("a", 100.0, "Lệ phí đăng ký OCOP bao nhiêu?", "rest", outcome="refusal"),
        Turn("b", 300.0, "lệ phí đăng ký OCOP bao nhiêu", "socketio", outcome="refusal"),
        Turn("c", 200.0, "Lệ phí đăng ký OCOP là bao nhiêu tiền?", "rest", outcome="refusal"),
        Turn("d", 150.0, "thời tiết hôm nay", "rest", outcome="fallback"),
        Turn("e", 160.0, "ocop là gì", "rest", outcome="fallback"),
    ]
    groups = group_turns(turns, fake_embed, known={normalize("OCOP là gì?")}, threshold=0.7)
    assert [g.count for g in groups] == [3, 1]
    fee = groups[0]
    assert fee.questions[0] == "Lệ phí đăng ký OCOP bao nhiêu?"  # asked twice: first
    assert (fee.first, fee.last) == (100.0, 300.0)
    assert fee.outcomes == ("refusal",)
    assert fee.senders == ("b", "c")  # the conversation that asked each question last
    assert groups[1].questions == ("thời tiết hôm nay",)
    unfiltered = group_turns(turns, fake_embed, threshold=0.7)
    assert [g.questions[0] for g in unfiltered[1:]] == ["ocop là gì", "thời tiết hôm nay"]  # latest first


def test_search_keeps_matching_groups_with_the_match_first() -> None:
    from console.insights import matching

    turns = [
        Turn("a", 1.0, "lệ phí đăng ký OCOP bao nhiêu", "rest", outcome="refusal"),
        Turn("b", 2.0, "lệ phí đăng ký OCOP là bao nhiêu tiền", "rest", outcome="refusal"),
        Turn("c", 3.0, "thời tiết hôm nay", "rest", outcome="fallback"),
    ]
    groups = group_turns(turns, fake_embed, threshold=0.6)
    found = matching(groups, "Là bao nhiêu TIỀN")
    assert len(found) == 1 and found[0].questions[0] == "lệ phí đăng ký OCOP là bao nhiêu tiền"
    assert found[0].senders == ("b", "a")
    assert matching(groups, "giá vàng") == []
