"""Words for search: how a message's text becomes the keys it is found by.

A message stores its keys in ``words`` (a multikey index on ``words`` and
``_id`` serves the search on MongoDB; FerretDB v1 scans, see
docs/conversations.rst). A query is cut into keys by the same function, and
a message matches when it holds every key of the query.

* A **word** is a run of letters, digits, combining marks and ``_``; anything
  else separates words ("don't" is "don" and "t", "e-mail" is "e" and
  "mail").
* Its **key** ignores case and accents: Unicode NFKD, combining marks
  dropped, case-folded, and done again (case folding can bring marks back:
  "İ"), then NFC. So "Café", "CAFE" and "café" are one key, and so are "ﬁ"
  and "fi", "Straße" and "strasse".
* Scripts written without spaces (Han, Hiragana, Katakana) are cut into
  characters: a run gives every character and every pair of neighbours
  (bigram) as keys; a query of such a run looks for its bigrams (for one
  character alone, the character). So "東京都" finds "東京都庁" and
  "京都" finds "東京都": a match of neighbours, not of dictionary words.
* Other scripts without spaces (Thai, Lao, Khmer, Myanmar) are not cut: a
  run between spaces or punctuation is one word.
"""

import unicodedata
from typing import NamedTuple

#: Keys are cut to this many characters (an index entry stays small).
MAX_KEY = 64
#: The most keys one message keeps (its first ones, in text order).
MAX_KEYS = 2000

_CUT = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
        (0xF900, 0xFAFF), (0xFF66, 0xFF9F), (0x20000, 0x3FFFF))


def _is_cut(char: str) -> bool:
    """A character of a script written without spaces that is cut into characters."""
    code = ord(char)
    return any(low <= code <= high for low, high in _CUT)


def _is_word_char(char: str) -> bool:
    return char == "_" or unicodedata.category(char)[0] in "LNM"


def fold(text: str) -> str:
    """The key of a word: no case, no accents (see the module docstring)."""
    for _ in range(2):
        text = "".join(char for char in unicodedata.normalize("NFKD", text)
                       if unicodedata.category(char) != "Mn")
        text = text.casefold()
    text = "".join(char for char in text if _is_word_char(char))
    return unicodedata.normalize("NFC", text)[:MAX_KEY]


class Run(NamedTuple):
    """A word of a text: where it is (start, end) and whether it is cut
    into characters."""

    start: int
    end: int
    cut: bool


def runs(text: str) -> list[Run]:
    """The words of a text, in order, with their places."""
    found: list[Run] = []
    start = None
    cut = False
    for index, char in enumerate(text):
        if _is_word_char(char):
            char_cut = _is_cut(char)
            if start is not None and char_cut != cut and unicodedata.category(char) != "Mn":
                found.append(Run(start, index, cut))
                start = None
            if start is None:
                start, cut = index, char_cut
        elif start is not None:
            found.append(Run(start, index, cut))
            start = None
    if start is not None:
        found.append(Run(start, len(text), cut))
    return found


def _cut_keys(word: str, query: bool) -> list[str]:
    chars = [key for key in (fold(char) for char in word) if key]
    pairs = [a + b for a, b in zip(chars, chars[1:], strict=False)]
    if query:
        return pairs or chars
    return chars + pairs


def words_of(text: str) -> list[str]:
    """The keys a message's text is found by: distinct, in text order."""
    keys: dict[str, None] = {}
    for run in runs(text):
        word = text[run.start:run.end]
        for key in (_cut_keys(word, query=False) if run.cut else [fold(word)]):
            if key:
                keys.setdefault(key, None)
        if len(keys) >= MAX_KEYS:
            break
    return list(keys)[:MAX_KEYS]


def query_keys(query: str) -> list[str]:
    """The keys a message must all hold to match a query."""
    keys: dict[str, None] = {}
    for run in runs(query):
        word = query[run.start:run.end]
        for key in (_cut_keys(word, query=True) if run.cut else [fold(word)]):
            if key:
                keys.setdefault(key, None)
    return list(keys)


def marked(text: str, keys: list[str]) -> list[dict]:
    """The text in pieces, ``{"text", "match"}``, where the pieces that
    match a key of the query have ``match`` true: a client shows them marked
    without parsing anything (the pieces, joined, are the text)."""
    wanted = set(keys)
    spans: list[tuple[int, int]] = []
    for run in runs(text):
        if not run.cut:
            if fold(text[run.start:run.end]) in wanted:
                spans.append((run.start, run.end))
            continue
        for index in range(run.start, run.end):
            pair = fold(text[index:index + 2]) if index + 1 < run.end else None
            if pair in wanted:
                spans.append((index, index + 2))
            elif fold(text[index]) in wanted:
                spans.append((index, index + 1))
    pieces: list[dict] = []
    position = 0
    for start, end in spans:
        start = max(start, position)
        if start >= end:
            continue
        if start > position:
            _add(pieces, text[position:start], False)
        _add(pieces, text[start:end], True)
        position = end
    if position < len(text):
        _add(pieces, text[position:], False)
    return pieces


def _add(pieces: list[dict], text: str, match: bool) -> None:
    if pieces and pieces[-1]["match"] == match:
        pieces[-1]["text"] += text
    else:
        pieces.append({"text": text, "match": match})
