"""The words an IVR speaks: numbers in French and English, queue positions, waits, digits read back."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.speech import (
    LANGUAGES,
    MAX_NUMBER,
    cardinal,
    digits_sentence,
    ordinal,
    position_sentence,
    wait_sentence,
)

FRENCH = {
    0: "zéro",
    1: "un",
    7: "sept",
    10: "dix",
    11: "onze",
    16: "seize",
    17: "dix-sept",
    19: "dix-neuf",
    20: "vingt",
    21: "vingt et un",
    22: "vingt-deux",
    30: "trente",
    31: "trente et un",
    61: "soixante et un",
    69: "soixante-neuf",
    70: "soixante-dix",
    71: "soixante et onze",
    72: "soixante-douze",
    77: "soixante-dix-sept",
    80: "quatre-vingts",
    81: "quatre-vingt-un",
    90: "quatre-vingt-dix",
    91: "quatre-vingt-onze",
    99: "quatre-vingt-dix-neuf",
    100: "cent",
    101: "cent un",
    180: "cent quatre-vingts",
    200: "deux cents",
    201: "deux cent un",
    280: "deux cent quatre-vingts",
    1000: "mille",
    1001: "mille un",
    1100: "mille cent",
    2000: "deux mille",
    2080: "deux mille quatre-vingts",
    21000: "vingt et un mille",
    80000: "quatre-vingt mille",  # no s before mille
    200000: "deux cent mille",
    280080: "deux cent quatre-vingt mille quatre-vingts",
    999999: "neuf cent quatre-vingt-dix-neuf mille neuf cent quatre-vingt-dix-neuf",
}

ENGLISH = {
    0: "zero",
    1: "one",
    12: "twelve",
    16: "sixteen",
    17: "seventeen",
    20: "twenty",
    21: "twenty-one",
    70: "seventy",
    71: "seventy-one",
    99: "ninety-nine",
    100: "one hundred",
    101: "one hundred and one",
    105: "one hundred and five",
    180: "one hundred and eighty",
    200: "two hundred",
    1000: "one thousand",
    1001: "one thousand and one",
    1200: "one thousand two hundred",
    1205: "one thousand two hundred and five",
    2001: "two thousand and one",
    2080: "two thousand and eighty",
    21000: "twenty-one thousand",
    80000: "eighty thousand",
    100001: "one hundred thousand and one",
    105000: "one hundred and five thousand",
    999999: "nine hundred and ninety-nine thousand nine hundred and ninety-nine",
}


@pytest.mark.parametrize(("n", "words"), sorted(FRENCH.items()))
def test_french_cardinals(n: int, words: str) -> None:
    assert cardinal(n, "fr") == words


@pytest.mark.parametrize(("n", "words"), sorted(ENGLISH.items()))
def test_english_cardinals(n: int, words: str) -> None:
    assert cardinal(n, "en") == words


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, "une"),
        (21, "vingt et une"),
        (81, "quatre-vingt-une"),
        (101, "cent une"),
        (1001, "mille une"),
        (2, "deux"),
        (11, "onze"),  # onze is no un
        (71, "soixante et onze"),
        (21000, "vingt et un mille"),  # only a final un agrees
    ],
)
def test_french_feminine(n: int, words: str) -> None:
    assert cardinal(n, "fr", feminine=True) == words


def test_english_has_no_feminine() -> None:
    assert cardinal(21, "en", feminine=True) == "twenty-one"


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, "premier"),
        (2, "deuxième"),
        (3, "troisième"),
        (4, "quatrième"),
        (5, "cinquième"),
        (9, "neuvième"),
        (11, "onzième"),
        (17, "dix-septième"),
        (21, "vingt et unième"),
        (29, "vingt-neuvième"),
        (71, "soixante et onzième"),
        (80, "quatre-vingtième"),
        (81, "quatre-vingt-unième"),
        (100, "centième"),
        (101, "cent unième"),
        (200, "deux centième"),
        (1000, "millième"),
        (2000, "deux millième"),
        (80000, "quatre-vingt millième"),
    ],
)
def test_french_ordinals(n: int, words: str) -> None:
    assert ordinal(n, "fr") == words


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, "first"),
        (2, "second"),
        (3, "third"),
        (4, "fourth"),
        (5, "fifth"),
        (8, "eighth"),
        (9, "ninth"),
        (11, "eleventh"),
        (12, "twelfth"),
        (20, "twentieth"),
        (21, "twenty-first"),
        (100, "one hundredth"),
        (102, "one hundred and second"),
        (1000, "one thousandth"),
        (2003, "two thousand and third"),
    ],
)
def test_english_ordinals(n: int, words: str) -> None:
    assert ordinal(n, "en") == words


@pytest.mark.parametrize(
    ("position", "fr", "en"),
    [
        (1, "Vous êtes le prochain appel.", "You are next in line."),
        (2, "Vous êtes le deuxième appel en attente.", "You are second in line."),
        (3, "Vous êtes le troisième appel en attente.", "You are third in line."),
        (21, "Vous êtes le vingt et unième appel en attente.", "You are twenty-first in line."),
    ],
)
def test_position_sentence(position: int, fr: str, en: str) -> None:
    assert position_sentence(position, "fr") == fr
    assert position_sentence(position, "en") == en


@pytest.mark.parametrize(
    ("seconds", "fr", "en"),
    [
        (None, "ne peut pas être estimé pour le moment.", "The waiting time cannot be estimated at the moment."),
        (0, "est de moins d'une minute.", "is less than a minute."),
        (59, "est de moins d'une minute.", "is less than a minute."),
        (59.9, "est de moins d'une minute.", "is less than a minute."),
        (60, "est d'environ une minute.", "is about one minute."),
        (89, "est d'environ une minute.", "is about one minute."),
        (90, "est d'environ deux minutes.", "is about two minutes."),  # halves round up
        (150, "est d'environ trois minutes.", "is about three minutes."),
        (240, "est d'environ quatre minutes.", "is about four minutes."),
        (599, "est d'environ dix minutes.", "is about ten minutes."),
        (600, "est d'environ dix minutes.", "is about ten minutes."),
        (749, "est d'environ dix minutes.", "is about ten minutes."),
        (750, "est d'environ quinze minutes.", "is about fifteen minutes."),
        (2850, "est d'environ cinquante minutes.", "is about fifty minutes."),
        (3599, "est d'environ soixante minutes.", "is about sixty minutes."),
        (3600, "est de plus d'une heure.", "is more than an hour."),
        (86400, "est de plus d'une heure.", "is more than an hour."),
        (float("inf"), "est de plus d'une heure.", "is more than an hour."),
    ],
)
def test_wait_sentence(seconds: float | None, fr: str, en: str) -> None:
    assert wait_sentence(seconds, "fr").endswith(fr)
    assert wait_sentence(seconds, "en").endswith(en)


def test_wait_sentences_whole() -> None:
    assert wait_sentence(None, "fr") == "Le temps d'attente ne peut pas être estimé pour le moment."
    assert wait_sentence(30, "fr") == "Le temps d'attente estimé est de moins d'une minute."
    assert wait_sentence(240, "fr") == "Le temps d'attente estimé est d'environ quatre minutes."
    assert wait_sentence(240, "en") == "The estimated waiting time is about four minutes."
    assert wait_sentence(900, "fr") == "Le temps d'attente estimé est d'environ quinze minutes."


@pytest.mark.parametrize("seconds", [-1, -0.5, float("nan")])
def test_wait_sentence_refuses_what_is_no_wait(seconds: float) -> None:
    with pytest.raises(ValueError):
        wait_sentence(seconds, "fr")


def test_digits_sentence() -> None:
    assert digits_sentence("732", "fr") == "sept, trois, deux"
    assert digits_sentence("732", "en") == "seven, three, two"
    assert digits_sentence("0", "fr") == "zéro"
    assert digits_sentence("2101", "fr") == "deux, un, zéro, un"


@pytest.mark.parametrize("digits", ["", "7a", "7 3", "٧", "+33"])
def test_digits_sentence_refuses_what_is_no_digits(digits: str) -> None:
    with pytest.raises(ValueError):
        digits_sentence(digits, "fr")


@pytest.mark.parametrize("language", ["de", "FR", "fr-FR", ""])
def test_unsupported_language_named(language: str) -> None:
    calls: tuple[Callable[[], str], ...] = (
        lambda: cardinal(1, language),
        lambda: ordinal(1, language),
        lambda: position_sentence(1, language),
        lambda: wait_sentence(None, language),
        lambda: wait_sentence(120, language),
        lambda: digits_sentence("1", language),
    )
    for call in calls:
        with pytest.raises(ValueError, match=re.escape(repr(language))):
            call()


@pytest.mark.parametrize("language", LANGUAGES)
def test_out_of_range(language: str) -> None:
    calls: tuple[Callable[[], str], ...] = (
        lambda: cardinal(-1, language),
        lambda: cardinal(MAX_NUMBER + 1, language),
        lambda: ordinal(0, language),
        lambda: ordinal(MAX_NUMBER + 1, language),
        lambda: position_sentence(0, language),
        lambda: position_sentence(-3, language),
    )
    for call in calls:
        with pytest.raises(ValueError, match="out of range"):
            call()


def test_the_range_ends() -> None:
    assert ordinal(MAX_NUMBER, "fr").endswith("quatre-vingt-dix-neuvième")
    assert ordinal(MAX_NUMBER, "en").endswith("ninety-ninth")


SPEAKABLE = re.compile(r"[^\W\d_]+(?:(?: |-|')[^\W\d_]+)*")  # letters, joined by one space, hyphen or apostrophe


@given(st.integers(min_value=0, max_value=MAX_NUMBER), st.sampled_from(LANGUAGES), st.booleans())
def test_every_cardinal_is_words(n: int, language: str, feminine: bool) -> None:
    words = cardinal(n, language, feminine=feminine)
    assert SPEAKABLE.fullmatch(words), words
    if language == "fr":
        assert "un un" not in words
        assert "  " not in words


@given(st.integers(min_value=1, max_value=MAX_NUMBER), st.sampled_from(LANGUAGES))
def test_every_ordinal_is_words(n: int, language: str) -> None:
    words = ordinal(n, language)
    assert SPEAKABLE.fullmatch(words), words
    assert words != cardinal(n, language)


@given(st.integers(min_value=0, max_value=MAX_NUMBER))
def test_french_feminine_changes_only_a_final_un(n: int) -> None:
    masculine, feminine = cardinal(n, "fr"), cardinal(n, "fr", feminine=True)
    if masculine == "un" or masculine.endswith((" un", "-un")):
        assert feminine == masculine + "e"
    else:
        assert feminine == masculine
