"""Keyboard leftovers: Telex and VNI typed with the input method switched off.

    decoder = KeyboardDecoder.load(known=lexicon.spellings)   # spelling keys of real words
    decoder.decode("ddawng kys ocop")                         # -> "đăng ký ocop"

A word is decoded only when it is not a word as typed and its decoding is one: "sao",
"ocop" and "tthc" stay as they are. The key tables are data (data/language/keyboard.yml).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.text import fold

KEYBOARD_FILE = Path(__file__).resolve().parent.parent / "data" / "language" / "keyboard.yml"
VOWELS = set("aăâeêioôơuưy")
# Letter runs that Vietnamese spelling never has: they can only be input-method keys.
IMPOSSIBLE = re.compile(r"dd|aa|aw|ee|ow|uw|w|[aeiouy][sfrxj](?![aeiouy])|[a-z][0-9]")
_WORD = re.compile(r"[A-Za-zĐđ0-9]+")


@dataclass(frozen=True)
class Scheme:
    """One input method: letter combinations and tone keys."""

    letters: dict[str, str]
    tones: dict[str, str]

    def decode_word(self, word: str) -> str | None:
        """The syllable a word spells in this scheme, or None if it uses none of its keys."""
        low = word.lower()
        tone = ""
        out = ""
        i = 0
        keys = sorted(self.letters, key=len, reverse=True)
        used = False
        while i < len(low):
            for k in keys:
                if low.startswith(k, i) and not (k == "w" and not out):
                    out += self.letters[k]
                    i += len(k)
                    used = True
                    break
            else:
                ch = low[i]
                if ch in self.tones and any(c in VOWELS for c in out):
                    tone, used = self.tones[ch], True
                else:
                    out += ch
                i += 1
        if not used or not out.isalpha() or any(c.isdigit() for c in out):
            return None
        return place_tone(out, tone) if tone else out


def place_tone(syllable: str, mark: str) -> str:
    """Put a tone mark on the vowel that carries it (marked vowel first, else by position)."""
    idx = [i for i, c in enumerate(syllable) if c in VOWELS]
    if syllable.startswith(("qu", "gi")) and len(idx) > 1:
        idx = idx[1:]
    if not idx:
        return syllable
    marked = [i for i in idx if syllable[i] in "ăâêôơư"]
    if marked:
        pos = marked[-1]
    elif len(idx) >= 2 and idx[-1] == len(syllable) - 1:
        pos = idx[-2]  # "hoà", "mùa": open syllable, tone on the first of two vowels
    else:
        pos = idx[-1]
    return unicodedata.normalize("NFC", syllable[: pos + 1] + mark + syllable[pos + 1 :])


_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def word_key(word: str) -> str:
    """A written word with its tone mark moved to the end ("hoá" = "hóa"), never ASCII-like."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = "".join(c for c in decomposed if c in _TONE_MARKS)
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
    return base + tones


class KeyboardDecoder:
    """Decodes Telex / VNI leftovers word by word, checked against known words."""

    def __init__(self, schemes: list[Scheme], is_word: Callable[[str], bool]) -> None:
        """`is_word(w)` tells whether a lowercase written word (accents and all) exists."""
        self.schemes, self.is_word = schemes, is_word

    @classmethod
    def load(
        cls, known: Collection[str], key: Callable[[str], str] = word_key, path: Path = KEYBOARD_FILE
    ) -> KeyboardDecoder:
        """Schemes from the data file; a word exists when `key(word)` is in `known` (keys)."""
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        schemes = [
            Scheme(dict(d["letters"]), {str(k): v for k, v in d["tones"].items()}) for d in data.values()
        ]
        return cls(schemes, lambda w: key(w) in known)

    def decode_token(self, token: str) -> str:
        """One word decoded, or as typed."""
        low = token.lower()
        if low.isdigit() or (self.is_word(low) and not IMPOSSIBLE.search(low)):
            return token  # a word as typed (word lists also hold foreign words: "cos", "ddos")
        for scheme in self.schemes:
            decoded = scheme.decode_word(low)
            if decoded and decoded != low and self.is_word(decoded) and fold(decoded) != low:
                return decoded.capitalize() if token[:1].isupper() else decoded
        return token

    def decode(self, text: str) -> str:
        """The text with every leftover word decoded."""
        return _WORD.sub(lambda m: self.decode_token(m.group()), text)


@functools.lru_cache(maxsize=1)
def word_list_decoder() -> KeyboardDecoder:
    """A decoder that knows pyvi's Vietnamese word list (for the channels, before NLU)."""
    import pyvi

    path = Path(pyvi.__file__).parent / "models" / "words.txt"
    words = path.read_text(encoding="utf-8").split()
    return KeyboardDecoder.load({word_key(w) for w in words})
