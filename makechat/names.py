"""What a person may type as a name or a message, and when two names are
"the same" to a reader.

One rule, published and enforced: the JSON Schemas below are the ones the
server validates with and /api/openapi.json publishes. Their patterns use
only regex features whose meaning is the same in ECMA-262 (what JSON Schema
says patterns are, what clients and schemathesis use) and in Python: explicit
character classes of BMP code points, and literal astral characters in a
negative lookahead (a UTF-16 pair in ECMA-262, one code point in Python).
Lone surrogates never get this far: the JSON parser refuses them.

Names (rooms, tokens) are stored in NFC and may not contain control, format
(zero-width, bidi override), line/paragraph separator or private-use
characters. Two room names that a reader cannot tell apart share a key: the
confusable skeleton of Unicode UTS #39 (``Cyrillic р`` and Latin ``p``,
``rn`` and ``m``), computed from Unicode's confusables data as packaged by
``confusable_homoglyphs``, so the unique index on that key refuses the
look-alike.
"""

import functools
import json
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

# -- character sets, from the Unicode database of this Python

# Python's str \s and ECMA-262's \s differ (\x1c-\x1f and \x85 for Python,
# \ufeff for ECMA-262): their union is spelled out.
_WHITESPACE = set(" \t\n\r\f\v\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2028\u2029\u202f\u205f"
                  "\u3000\ufeff") | {chr(cp) for cp in range(0x2000, 0x200B)}
# Letters and marks that render as nothing at all (fillers, blanks, selectors).
_BLANK = set("\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0") | \
    {chr(cp) for cp in range(0xFE00, 0xFE10)} | {chr(cp) for cp in range(0x180B, 0x1810)}
_FORBIDDEN_CATEGORIES = ("Cc", "Cf", "Zl", "Zp", "Co")


def _chars(predicate, astral):
    start, stop = (0x10000, sys.maxunicode + 1) if astral else (0, 0x10000)
    return sorted(chr(cp) for cp in range(start, stop)
                  if not 0xD800 <= cp <= 0xDFFF and predicate(chr(cp)))


def _class(chars):
    """A regex class body for BMP chars, as \\uXXXX ranges (same in both dialects)."""
    codes = sorted(ord(char) for char in chars)
    parts, index = [], 0
    while index < len(codes):
        end = index
        while end + 1 < len(codes) and codes[end + 1] == codes[end] + 1:
            end += 1
        first, last = codes[index], codes[end]
        parts.append(f"\\u{first:04x}" if first == last else f"\\u{first:04x}-\\u{last:04x}")
        index = end + 1
    return "".join(parts)


def _is_forbidden_in_name(char):
    return unicodedata.category(char) in _FORBIDDEN_CATEGORIES


def _is_invisible(char):
    return (char in _WHITESPACE or char in _BLANK
            or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"))


# NOTE: astral private use (planes 15-16) is allowed: ranges of astral code
# points cannot be written so that both regex dialects read them alike.
_ASTRAL_FORBIDDEN = [char for char in _chars(lambda c: unicodedata.category(c) == "Cf", True)]
_ASTRAL_INVISIBLE = _ASTRAL_FORBIDDEN + [chr(cp) for cp in range(0xE0100, 0xE01F0)]

_NAME_CHAR = (f"(?!{'|'.join(_ASTRAL_FORBIDDEN)})"
              f"[^{_class(_chars(_is_forbidden_in_name, False))}]")
# A visible character. NOTE: no surrogate ranges here (Rust's and other
# code-point regex engines refuse them); the one place the dialects then
# differ is an ECMA-262 engine without the "u" flag, which would take the
# low half of an astral invisible (a tag character) for a visible character.
_VISIBLE_CHAR = (f"(?!{'|'.join(_ASTRAL_INVISIBLE)})"
                 f"[^{_class(_chars(_is_invisible, False))}]")
_CONTROL = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f"

#: A name: only allowed characters throughout, and at least one visible one.
NAME_PATTERN = f"^(?=.*?{_VISIBLE_CHAR})(?:{_NAME_CHAR})+$"
#: Free text (messages, topics): no C0 control but tab and newlines.
NO_CONTROL_PATTERN = f"^[^{_CONTROL}]*$"
#: ... and, for a message, at least one visible character.
VISIBLE_PATTERN = _VISIBLE_CHAR


def name_schema(max_length: int, what: str = "name") -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length,
            "pattern": NAME_PATTERN,
            "x-rule": f"1 to {max_length} characters with at least one visible one, and no "
                      "control, format (zero-width, bidi) or private-use characters"}


def text_schema(max_length: int, required_visible: bool = True) -> dict[str, Any]:
    """Free text: no control characters but tab and newlines; with
    ``required_visible``, at least one character a reader can see."""
    patterns: list[dict[str, str]] = [{"pattern": NO_CONTROL_PATTERN}]
    rule = f"at most {max_length} characters, no control characters but tab and newline"
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length}
    if required_visible:
        patterns.append({"pattern": VISIBLE_PATTERN})
        schema["minLength"] = 1
        rule = (f"1 to {max_length} characters with at least one visible one, "
                "no control characters but tab and newline")
    for part in patterns:
        part["x-rule"] = rule
    schema["allOf"] = patterns
    schema["x-rule"] = rule
    return schema


def normalize_name(name: str) -> str:
    """Return a name as it is stored: NFC, without outer whitespace."""
    return unicodedata.normalize("NFC", name).strip()


# -- confusable skeletons (UTS #39)


@functools.lru_cache(maxsize=1)
def _prototypes():
    """Return (single-char map to a class representative, multi-char expansions).

    confusables_homoglyphs stores confusables.txt both ways round (source ->
    prototype and prototype -> source), so the prototype classes are rebuilt
    as connected components; any member represents its class, which keeps
    skeleton equality exactly UTS #39's."""
    import confusable_homoglyphs
    data = json.loads((Path(confusable_homoglyphs.__file__).parent / "confusables.json")
                      .read_text(encoding="utf-8"))
    parent = {}

    def find(char):
        parent.setdefault(char, char)
        while parent[char] != char:
            parent[char] = parent[parent[char]]
            char = parent[char]
        return char

    expansions = {}
    for key, entries in data.items():
        if len(key) != 1:
            continue  # a multi-character prototype ("rn"): seen from its source
        for entry in entries:
            target = entry["c"].strip("\u200e\u200f") or entry["c"]
            if len(target) == 1:
                first, second = find(key), find(target)
                if first != second:
                    parent[max(first, second)] = min(first, second)
            elif len(entries) == 1:
                expansions[key] = target  # a source whose prototype is a sequence
    representative = {char: find(char) for char in list(parent)}
    return representative, expansions


def skeleton(text: str) -> str:
    """Return the key under which look-alike names collide: case-folded, NFKC,
    whitespace runs as one space, then UTS #39's skeleton."""
    representative, expansions = _prototypes()
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = re.sub(r"\s+", " ", folded).strip()
    decomposed = unicodedata.normalize("NFD", folded)
    expanded = "".join(expansions.get(char, char) for char in decomposed)
    mapped = "".join(representative.get(char, char) for char in
                     unicodedata.normalize("NFD", expanded))
    return unicodedata.normalize("NFD", mapped)
