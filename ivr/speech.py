"""What an IVR says, as words in French or English, for a speech synthesiser (espeak-ng).

Numbers are spelt out because the synthesiser reads words better than digits for ordinals and
agreement ("vingt et une minutes", "troisième"). French follows the traditional spelling: hyphens
between tens and units only, "et" before un and onze up to soixante et onze.
"""

from __future__ import annotations

import math
import re

LANGUAGES = ("fr", "en")
MAX_NUMBER = 999_999

_FR_UNITS = (
    "zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf",
    "dix", "onze", "douze", "treize", "quatorze", "quinze", "seize",
)  # fmt: skip
_FR_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}
_FR_ORDINAL_STEMS = {"un": "un", "cinq": "cinqu", "neuf": "neuv"}
_FINAL_UN = re.compile(r"(^|[ -])un$")

_EN_UNITS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_EN_ORDINALS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}: expected one of {', '.join(LANGUAGES)}")


def _check_range(n: int, low: int) -> None:
    if not low <= n <= MAX_NUMBER:
        raise ValueError(f"{n} is out of range: expected {low} to {MAX_NUMBER}")


def _fr_below_100(n: int, final: bool) -> str:
    if n < 17:
        return _FR_UNITS[n]
    if n < 20:
        return "dix-" + _FR_UNITS[n - 10]
    if n < 70:
        tens, units = divmod(n, 10)
        word = _FR_TENS[tens]
        if units == 0:
            return word
        return f"{word} et un" if units == 1 else f"{word}-{_FR_UNITS[units]}"
    if n < 80:
        return "soixante et onze" if n == 71 else "soixante-" + _fr_below_100(n - 60, final)
    if n == 80:
        # Vingt takes an s when it multiplies and ends the number: not before mille, an adjective.
        return "quatre-vingts" if final else "quatre-vingt"
    return "quatre-vingt-" + _fr_below_100(n - 80, final)  # no "et": quatre-vingt-un, quatre-vingt-onze


def _fr_below_1000(n: int, final: bool) -> str:
    hundreds, rest = divmod(n, 100)
    words: list[str] = []
    if hundreds == 1:
        words.append("cent")
    elif hundreds > 1:
        plural = "s" if rest == 0 and final else ""  # deux cents, deux cent un, deux cent mille
        words.append(f"{_FR_UNITS[hundreds]} cent{plural}")
    if rest or not hundreds:
        words.append(_fr_below_100(rest, final))
    return " ".join(words)


def _fr_cardinal(n: int) -> str:
    if n == 0:
        return _FR_UNITS[0]
    thousands, rest = divmod(n, 1000)
    words: list[str] = []
    if thousands == 1:
        words.append("mille")  # never "un mille"
    elif thousands > 1:
        words.append(_fr_below_1000(thousands, final=False) + " mille")
    if rest:
        words.append(_fr_below_1000(rest, final=True))
    return " ".join(words)


def _en_below_100(n: int) -> str:
    if n < 20:
        return _EN_UNITS[n]
    tens, units = divmod(n, 10)
    return _EN_TENS[tens] + (f"-{_EN_UNITS[units]}" if units else "")


def _en_below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    if not hundreds:
        return _en_below_100(rest)
    words = f"{_EN_UNITS[hundreds]} hundred"
    return f"{words} and {_en_below_100(rest)}" if rest else words


def _en_cardinal(n: int) -> str:
    thousands, rest = divmod(n, 1000)
    if not thousands:
        return _en_below_1000(rest)
    words = _en_below_1000(thousands) + " thousand"
    if not rest:
        return words
    # British usage: "and" before a last group under a hundred (two thousand and one).
    return f"{words} {'and ' if rest < 100 else ''}{_en_below_1000(rest)}"


def cardinal(n: int, language: str, *, feminine: bool = False) -> str:
    """The words of 0 <= n <= 999 999; `feminine` makes a final French "un" "une" (English ignores it)."""
    _check_language(language)
    _check_range(n, 0)
    if language == "en":
        return _en_cardinal(n)
    words = _fr_cardinal(n)
    # Only the last "un" agrees: "vingt et une minutes" but "vingt et un mille minutes".
    return words + "e" if feminine and _FINAL_UN.search(words) else words


def _last_word(words: str) -> tuple[str, str]:
    """The number's words split before its last word, hyphenated or not."""
    cut = max(words.rfind(" "), words.rfind("-")) + 1
    return words[:cut], words[cut:]


def ordinal(n: int, language: str) -> str:
    """The ordinal words of 1 <= n <= 999 999, masculine in French (premier, vingt et unième)."""
    _check_language(language)
    _check_range(n, 1)
    head, last = _last_word(cardinal(n, language))
    if language == "en":
        if last in _EN_ORDINALS:
            return head + _EN_ORDINALS[last]
        return head + (last[:-1] + "ieth" if last.endswith("y") else last + "th")
    if n == 1:
        return "premier"
    if last in _FR_ORDINAL_STEMS:
        stem = _FR_ORDINAL_STEMS[last]
    else:
        # quatre-vingts and deux cents lose their s, quatre and mille their e.
        stem = last.removesuffix("s") if last.endswith(("vingts", "cents")) else last.removesuffix("e")
    return head + stem + "ième"


def position_sentence(position: int, language: str) -> str:
    """The caller's place in the queue, 1 being the next call served."""
    _check_language(language)
    _check_range(position, 1)
    if position == 1:
        return "Vous êtes le prochain appel." if language == "fr" else "You are next in line."
    place = ordinal(position, language)
    return f"Vous êtes le {place} appel en attente." if language == "fr" else f"You are {place} in line."


def _minutes(minutes: int, language: str) -> str:
    if language == "fr":
        return "une minute" if minutes == 1 else f"{cardinal(minutes, 'fr', feminine=True)} minutes"
    return "one minute" if minutes == 1 else f"{cardinal(minutes, 'en')} minutes"


def wait_sentence(seconds: float | None, language: str) -> str:
    """The estimated wait, rounded as a caller hears it; None when it cannot be estimated."""
    _check_language(language)
    if seconds is None:
        if language == "fr":
            return "Le temps d'attente ne peut pas être estimé pour le moment."
        return "The waiting time cannot be estimated at the moment."
    if math.isnan(seconds) or seconds < 0:
        raise ValueError(f"{seconds} seconds is not a waiting time")
    if seconds < 60:
        amount = {"fr": "de moins d'une minute", "en": "less than a minute"}[language]
    elif seconds >= 3600:
        amount = {"fr": "de plus d'une heure", "en": "more than an hour"}[language]
    else:
        # Halves round up (round() would send 2.5 minutes to 2 and 3.5 to 4).
        if seconds < 600:
            minutes = math.floor((seconds + 30) / 60)  # 1 at least, as seconds >= 60
        else:
            minutes = 5 * math.floor((seconds + 150) / 300)
        about = _minutes(minutes, language)
        amount = f"d'environ {about}" if language == "fr" else f"about {about}"
    if language == "fr":
        return f"Le temps d'attente estimé est {amount}."
    return f"The estimated waiting time is {amount}."


def digits_sentence(digits: str, language: str) -> str:
    """Digits read back one by one: "732" -> "sept, trois, deux"."""
    _check_language(language)
    if not re.fullmatch(r"[0-9]+", digits):
        raise ValueError(f"{digits!r} is not a string of digits 0-9")
    return ", ".join(cardinal(int(char), language) for char in digits)
