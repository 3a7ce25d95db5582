"""The keypad validators on real identifiers, every edge of their ranges, and whatever text hypothesis makes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.validators import VALIDATORS, date, department, luhn_valid, phone, siren, siret

# SIRENs of real companies; the first is python-stdnum's example, with its SIRET 73282932000074.
REAL_SIRENS = {
    "732829320": "python-stdnum's example",
    "443061841": "Google France",
    "552032534": "Danone",
    "542051180": "TotalEnergies",
}


def naive_luhn(digits: str) -> bool:
    """Luhn as the textbook writes it, apart from the module: weights 1, 2, 1, 2... from the right,
    the digits of each product added up."""
    weights = [1 + index % 2 for index in range(len(digits))]
    products = [int(digit) * weight for digit, weight in zip(reversed(digits), weights, strict=True)]
    return sum(sum(int(d) for d in str(product)) for product in products) % 10 == 0


@pytest.mark.parametrize("number", sorted(REAL_SIRENS))
def test_real_sirens_are_valid_by_both_computations(number: str) -> None:
    assert naive_luhn(number)
    assert luhn_valid(number)
    assert siren(number) == number


@pytest.mark.parametrize("number", sorted(REAL_SIRENS))
def test_any_one_digit_change_breaks_a_real_siren(number: str) -> None:
    for position in range(9):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            typo = number[:position] + digit + number[position + 1 :]
            assert not naive_luhn(typo), typo
            assert siren(typo) is None, typo


def test_an_adjacent_swap_breaks_a_real_siren() -> None:
    # Luhn catches swaps of adjacent digits but 0-9 and 9-0.
    assert siren("372829320") is None
    assert siren("738229320") is None


@pytest.mark.parametrize(
    "typed",
    ["000000000", "", "73282932", "7328293200", "73282932O", "7328 29320", "-73282932", " 732829320", "732829320\n"],
)
def test_sirens_rejected(typed: str) -> None:
    assert siren(typed) is None


def test_digits_of_other_scripts_are_not_keypad_digits() -> None:
    fullwidth = "".join(chr(ord(c) - ord("0") + 0xFF10) for c in "732829320")
    arabic_indic = "".join(chr(ord(c) - ord("0") + 0x0660) for c in "732829320")
    assert fullwidth.isdigit() and arabic_indic.isdigit()  # what str.isdigit() would let through
    assert siren(fullwidth) is None
    assert siren(arabic_indic) is None
    assert phone("٠٦١٢٣٤٥٦٧٨") is None


@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_every_prefix_has_exactly_one_check_digit(prefix: str) -> None:
    valid = [digit for digit in "0123456789" if siren(prefix + digit) is not None]
    if prefix == "00000000":
        assert valid == []  # its one Luhn key gives 000000000, no company's
    else:
        assert len(valid) == 1
        assert naive_luhn(prefix + valid[0])


def test_the_all_zero_prefix_has_no_siren() -> None:
    assert luhn_valid("000000000")
    assert [d for d in "0123456789" if siren("00000000" + d)] == []


def test_siret_valid() -> None:
    assert naive_luhn("73282932000074")
    assert siret("73282932000074") == "73282932000074"


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("73282932000079", "Luhn fails over 14 digits"),
        ("73282932100007", "Luhn passes over 14 digits but 732829321 is no SIREN"),
        ("00000000000000", "Luhn passes but the SIREN is all zeros"),
        ("7328293200007", "13 digits"),
        ("732829320000740", "15 digits"),
        ("7328293200007A", "a letter"),
        ("732829320", "a SIREN, not a SIRET"),
    ],
)
def test_sirets_rejected(typed: str, why: str) -> None:
    assert siret(typed) is None, why


def test_the_siren_of_a_siret_checked_by_itself() -> None:
    assert naive_luhn("73282932100007") and not naive_luhn("732829321")


def test_la_poste() -> None:
    assert siren("356000000") == "356000000"  # La Poste's SIREN keeps its Luhn key
    # Its head office's SIRET is Luhn-valid; its digits add up to 26, no multiple of 5.
    assert naive_luhn("35600000000048")
    assert siret("35600000000048") == "35600000000048"
    # Its other establishments: digits adding up to a multiple of 5, Luhn or not.
    assert not naive_luhn("35600000000001")
    assert siret("35600000000001") == "35600000000001"  # 3+5+6+1 = 15
    assert siret("35600000000100") == "35600000000100"
    # Luhn does not save an establishment whose digits add up to 19.
    assert naive_luhn("35600000000014")
    assert siret("35600000000014") is None
    assert siret("35600000000019") is None


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("01", "01"),
        ("19", "19"),
        ("21", "21"),
        ("75", "75"),
        ("95", "95"),
        ("201", "2A"),
        ("202", "2B"),
        ("971", "971"),
        ("974", "974"),
        ("976", "976"),
    ],
)
def test_departments(typed: str, code: str) -> None:
    assert department(typed) == code


@pytest.mark.parametrize(
    "typed",
    ["00", "20", "96", "99", "970", "977", "978", "200", "203", "2A", "2B", "1", "001", "0971", "9710", "", "7 5"],
)
def test_departments_rejected(typed: str) -> None:
    assert department(typed) is None


@pytest.mark.parametrize(
    ("typed", "iso"),
    [
        ("29022024", "2024-02-29"),
        ("29022000", "2000-02-29"),  # divisible by 400: leap
        ("01011900", "1900-01-01"),
        ("31122100", "2100-12-31"),
        ("14071789", None),  # before 1900
        ("01012101", None),
        ("31121899", None),
        ("29022023", None),
        ("29021900", None),  # divisible by 100, not by 400: common
        ("29022100", None),
        ("31042024", None),
        ("00012024", None),
        ("01002024", None),
        ("01132024", None),
        ("32012024", None),
        ("2902202", None),
        ("290220240", None),
        ("29/02/24", None),
    ],
)
def test_dates(typed: str, iso: str | None) -> None:
    assert date(typed) == iso


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("0123456789", "+33123456789"),
        ("0612345678", "+33612345678"),
        ("0987654321", "+33987654321"),
        ("0033612345678", "+33612345678"),
        ("0033123456789", "+33123456789"),
    ],
)
def test_phones(typed: str, e164: str) -> None:
    assert phone(typed) == e164


@pytest.mark.parametrize(
    "typed",
    [
        "0012345678",  # 00: the international prefix, not a national number
        "1234567890",
        "061234567",
        "06123456789",
        "0033012345678",  # the 0 of the national form kept after 0033
        "003361234567",
        "00336123456789",
        "0044612345678",
        "+33612345678",  # no + on a keypad's digits
        "33612345678",
        "06 12 34 56 78",
        "",
    ],
)
def test_phones_rejected(typed: str) -> None:
    assert phone(typed) is None


def test_the_validators_by_name() -> None:
    assert dict(VALIDATORS) == {"siren": siren, "siret": siret, "department": department, "date": date, "phone": phone}


@given(st.sampled_from(sorted(VALIDATORS)), st.text() | st.text(alphabet="0123456789", max_size=16))
def test_no_validator_raises(name: str, typed: str) -> None:
    result = VALIDATORS[name](typed)
    assert result is None or isinstance(result, str)
