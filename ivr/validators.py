"""Checks of the digits a caller types on a phone keypad (DTMF: 0-9 only).

Every validator takes the typed digits and returns the normalised value, or None when they are not
valid; none raises, whatever text it is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date as _date
from types import MappingProxyType

# [0-9], not \d or str.isdigit(): those accept other scripts' digits, which no keypad sends.
_SIREN = re.compile(r"[0-9]{9}")
_SIRET = re.compile(r"[0-9]{14}")
_DATE = re.compile(r"[0-9]{8}")
_NATIONAL = re.compile(r"0[1-9][0-9]{8}")
_INTERNATIONAL = re.compile(r"0033[1-9][0-9]{8}")

# La Poste's establishments share one SIREN and their SIRETs do not follow Luhn: INSEE checks that
# the sum of their digits is a multiple of 5. The head office's SIRET keeps a Luhn key.
_LA_POSTE_SIREN = "356000000"
_LA_POSTE_HEAD_OFFICE = "35600000000048"

_DEPARTMENTS = frozenset([f"{n:02d}" for n in range(1, 96) if n != 20] + [str(n) for n in range(971, 977)])
_CORSICA = {"201": "2A", "202": "2B"}  # 2A and 2B cannot be typed; 20 has not been a department since 1976


def luhn_valid(digits: str) -> bool:
    """Whether ASCII digits pass Luhn: every second digit from the right doubled."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def siren(digits: str) -> str | None:
    """Nine digits with a valid Luhn key, not all zeros."""
    if not _SIREN.fullmatch(digits) or digits == "000000000" or not luhn_valid(digits):
        return None
    return digits


def siret(digits: str) -> str | None:
    """Fourteen digits: a valid SIREN then a NIC, with Luhn (or La Poste's rule) over all 14."""
    if not _SIRET.fullmatch(digits) or siren(digits[:9]) is None:
        return None
    if digits.startswith(_LA_POSTE_SIREN) and digits != _LA_POSTE_HEAD_OFFICE:
        valid = sum(int(char) for char in digits) % 5 == 0
    else:
        valid = luhn_valid(digits)
    return digits if valid else None


def department(digits: str) -> str | None:
    """A French department code: 01-95 but 20, 201 -> 2A and 202 -> 2B, 971-976."""
    if digits in _CORSICA:
        return _CORSICA[digits]
    return digits if digits in _DEPARTMENTS else None


def date(digits: str) -> str | None:
    """DDMMYYYY, a real calendar date in 1900-2100, as ISO YYYY-MM-DD."""
    if not _DATE.fullmatch(digits):
        return None
    day, month, year = int(digits[:2]), int(digits[2:4]), int(digits[4:])
    if not 1900 <= year <= 2100:
        return None
    try:
        return _date(year, month, day).isoformat()
    except ValueError:  # day 0, month 13, 31 April, 29 February of a common year...
        return None


def phone(digits: str) -> str | None:
    """A French number, dialled 0XXXXXXXXX or 0033XXXXXXXXX, as E.164 +33XXXXXXXXX."""
    if _NATIONAL.fullmatch(digits):
        return "+33" + digits[1:]
    if _INTERNATIONAL.fullmatch(digits):
        return "+33" + digits[4:]
    return None


VALIDATORS: Mapping[str, Callable[[str], str | None]] = MappingProxyType(
    {"siren": siren, "siret": siret, "department": department, "date": date, "phone": phone}
)
