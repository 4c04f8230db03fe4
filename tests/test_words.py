"""makechat/words.py: the keys a message is found by, and the marked pieces."""

import pytest

from makechat.words import MAX_KEY, fold, marked, query_keys, words_of


@pytest.mark.parametrize("word, key", [
    ("Café", "cafe"), ("CAFÉ", "cafe"), ("cafe\u0301", "cafe"), ("Straße", "strasse"),
    ("ﬁne", "fine"), ("İstanbul", "istanbul"), ("Ångström", "angstrom"), ("ΣΟΦΊΑ", "σοφια"),
    ("x_y", "x_y"), ("①", "1"),
])
def test_fold_ignores_case_and_accents(word, key):
    assert fold(word) == key


def test_words_are_distinct_and_in_text_order():
    assert words_of("The cat saw the CAT, then the dog.") == ["the", "cat", "saw", "then", "dog"]


def test_punctuation_separates_words():
    assert words_of("don't e-mail bob@example.com") == ["don", "t", "e", "mail", "bob",
                                                        "example", "com"]


def test_cjk_runs_give_characters_and_pairs():
    assert words_of("東京都") == ["東", "京", "都", "東京", "京都"]


def test_cjk_next_to_latin_is_cut_apart():
    assert words_of("東京tower") == ["東", "京", "東京", "tower"]


def test_a_cjk_query_looks_for_pairs_or_one_character():
    assert query_keys("東京都") == ["東京", "京都"]
    assert query_keys("京") == ["京"]


def test_kana_is_cut_like_han():
    assert "テキ" in words_of("日本語テキスト") and "語テ" in words_of("日本語テキスト")


def test_long_words_are_cut_to_a_key():
    assert words_of("a" * 500) == ["a" * MAX_KEY]


def test_text_without_words_has_no_keys():
    assert words_of("!!! ... 🎉") == [] and query_keys("?!") == []


def test_marked_pieces_join_into_the_text():
    text = "Hello Café, see 東京都庁!"
    pieces = marked(text, query_keys("cafe 京都"))
    assert "".join(piece["text"] for piece in pieces) == text
    assert [piece["text"] for piece in pieces if piece["match"]] == ["Café", "京都"]


def test_marked_marks_every_occurrence_in_its_own_case():
    pieces = marked("deploy, DEPLOY and Deployment", ["deploy"])
    assert [piece["text"] for piece in pieces if piece["match"]] == ["deploy", "DEPLOY"]


def test_marked_without_a_match_is_one_piece():
    assert marked("nothing here", ["else"]) == [{"text": "nothing here", "match": False}]
