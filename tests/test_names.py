"""makechat/names.py: one rule for names and text, as Python and as
ECMA-262 (what JSON Schema patterns are, what clients run) read it, and the
look-alike key."""

import json
import re
import shutil
import subprocess

import pytest

from makechat import names
from makechat.validation import Validator

SAMPLES = [
    "public", "  padded  ", "🎉 party", "日本語", "café", "cafe\u0301", "a b", "ab\u00a0",
    "\u200b", "a\u200bb", "\u202epublic", "nul\u0000", "tab\tx", "new\nline", "\u2066iso",
    "\ue000", "\U000e0001x", "\U000e0041", " \ufeff", "\u001f", "\u3164", "\u2800",
    "\u0301", "x\u2028y", "שלום\u200f", "\U0001f600", "\ufe0f", "", " ", "\t\n",
    "\u180e", "\u2061", "\u00ad", "a\u034f", "\U0001d173x", "\x85", "\xa0\xa0",
]


def python_verdicts(schema):
    validator = Validator(schema)
    return [validator.is_valid(sample) for sample in SAMPLES]


def ecma_verdicts(schema, flags):
    """Run each sample through the schema's patterns in Node.js's RegExp."""
    node = shutil.which("node")
    assert node, "Node.js (node) is needed to check the patterns as ECMA-262 reads them"
    patterns = [schema["pattern"]] if "pattern" in schema else \
        [part["pattern"] for part in schema["allOf"]]
    script = ("const [patterns, samples, flags, min, max] = JSON.parse(process.argv[1]);"
              "const rx = patterns.map(p => new RegExp(p, flags));"
              "console.log(JSON.stringify(samples.map(s => [...s].length >= min &&"
              " [...s].length <= max && rx.every(r => r.test(s)))));")
    argument = json.dumps([patterns, SAMPLES, flags, schema.get("minLength", 0),
                           schema["maxLength"]])
    result = subprocess.run([node, "-e", script, argument], capture_output=True, text=True,
                            check=True, timeout=60)
    return json.loads(result.stdout)


@pytest.mark.parametrize("schema", [names.name_schema(64), names.text_schema(4000),
                                    names.text_schema(500, required_visible=False)],
                         ids=["name", "message", "topic"])
def test_schema_reads_the_same_in_ecma_262_with_unicode_flag(schema):
    assert ecma_verdicts(schema, "u") == python_verdicts(schema)


@pytest.mark.parametrize("schema", [names.name_schema(64), names.text_schema(4000)],
                         ids=["name", "message"])
def test_schema_reads_the_same_in_ecma_262_without_flags(schema):
    """Without the u flag ECMA-262 sees UTF-16 units; the one documented
    difference is an astral invisible character alone in a message."""
    python, ecma = python_verdicts(schema), ecma_verdicts(schema, "")
    differing = [SAMPLES[index] for index, (a, b) in enumerate(zip(python, ecma, strict=True))
                 if a != b]
    assert all(all(ord(char) > 0xFFFF or char.isspace() for char in sample)
               for sample in differing), differing


def test_server_refuses_exactly_what_the_schema_refuses():
    """The message rule the server applies is the schema itself."""
    schema = names.text_schema(4000)
    expected = {"\u200b": False, "\u0000": False, "\ufeff": False, "\u001f": False,
                "\u3164": False, "a": True, "🎉": True, "\U000e0041": False, " \t\n": False}
    assert {text: Validator(schema).is_valid(text) for text in expected} == expected


@pytest.mark.parametrize("first,second", [
    ("public", "\u0440ublic"), ("admin", "adrnin"), ("Public", "public"), ("a  b", "a b"),
    ("paypal", "p\u0430yp\u0430l"), ("café", "cafe\u0301"),
    ("ＡＢＣ", "abc"), ("general", "genera1"),
])
def test_look_alikes_share_a_skeleton(first, second):
    assert names.skeleton(first) == names.skeleton(second)


@pytest.mark.parametrize("first,second", [("public", "pubic"), ("abc", "abd"), ("a b", "ab"),
                                          ("日本", "日本語")])
def test_different_names_keep_different_skeletons(first, second):
    assert names.skeleton(first) != names.skeleton(second)


def test_normalize_name_is_nfc_and_trimmed():
    assert names.normalize_name("  cafe\u0301 ") == "caf\u00e9"


def test_name_pattern_has_no_surrogate_ranges():
    """Code-point regex engines (Rust's, Go's) refuse lone surrogates."""
    for schema in (names.name_schema(64), names.text_schema(4000)):
        text = json.dumps(schema)
        assert not re.search(r"\\\\ud[89a-f][0-9a-f]{2}", text)
