"""The star scale: a score read as its level (data/stats/star_scale.yml and its example corpus)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.text import search_words
from index.cards import CardStore
from index.star_scale import StarScale
from tests.unit.conftest import FakeRetriever, make_pipeline

ROOT = Path(__file__).resolve().parents[2]


def test_example_messages_ask_the_score_written_beside_them():
    scale = StarScale.load()
    examples = yaml.safe_load(
        (ROOT / "data" / "stats" / "star_scale_examples.yml").read_text(encoding="utf-8")
    )
    for text, score in examples.items():
        found = scale.asked(" ".join(search_words(text)))
        assert (found.point if found else None) == score, text


@pytest.mark.parametrize(
    "score, stars",
    [(0, 1), (29, 1), (29.5, 1), (30, 2), (49, 2), (50, 3), (69, 3), (70, 4), (89, 4), (90, 5), (100, 5)],
)
def test_each_score_gets_the_level_whose_range_holds_it(score, stars):
    assert StarScale.load().level(score).stars == stars


def test_a_score_off_the_scale_has_no_level():
    scale = StarScale.load()
    assert scale.level(101) is None and scale.level(-1) is None


def test_a_broken_scale_file_is_named_in_the_error(tmp_path):
    bad = tmp_path / "star_scale.yml"
    bad.write_text("levels: [{stars: 1}]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="star_scale.yml"):
        StarScale.load(bad)


def test_the_pipeline_gives_the_level_the_certificate_and_the_scale_card_then_follows_up():
    p = make_pipeline(FakeRetriever(), cards=CardStore(ROOT / "data" / "cards").cards())
    first = p.answer("hội đồng chấm sản phẩm của hợp tác xã em 46 điểm thì có được công nhận OCOP không")
    assert first.response == "utter_star_for_score" and first.kwargs["stars"] == "2"
    assert [n[0] for n in first.notes][:2] == ["utter_star_not_certified", "utter_card_answer"]
    assert first.refs == ("card:thang-sao",)
    from index.pipeline import Context

    again = p.answer("thế 91 điểm?", Context(first.question, first.refs))
    assert again.kwargs["stars"] == "5" and "utter_star_national" in [n[0] for n in again.notes]
