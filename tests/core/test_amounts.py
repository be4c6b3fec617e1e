from decimal import Decimal

import pytest

from tuition.core.amounts import MAX_MINOR, format_amount, parse_amount
from tuition.core.errors import ValidationError


@pytest.mark.parametrize(
    ("text", "decimals", "minor"),
    [
        ("150.00", 2, 15000),
        ("150.5", 2, 15050),
        ("0.01", 2, 1),
        ("3", 0, 3),
        ("3.000", 0, 3),
        (7, 2, 700),
        (Decimal("1.25"), 2, 125),
        (" 12.30 ", 2, 1230),
        ("+5", 0, 5),
    ],
)
def test_parse_amount_accepts_plain_decimals(text, decimals, minor):
    assert parse_amount(text, decimals=decimals) == minor


@pytest.mark.parametrize(
    "bad",
    [
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "1e3",
        "1E3",
        "",
        " ",
        "1.2.3",
        "abc",
        "0x10",
        "١٢",
        "１２",  # noqa: RUF001 - full-width digits must be refused
        None,
        True,
        False,
        1.5,
        float("nan"),
        [],
        {},
        Decimal("NaN"),
        "1" * 41,
    ],
)
def test_parse_amount_rejects_what_is_not_a_plain_decimal(bad):
    with pytest.raises(ValidationError) as err:
        parse_amount(bad, decimals=2)
    assert err.value.code == "validation_error"


def test_parse_amount_rejects_more_decimals_than_the_unit_has():
    with pytest.raises(ValidationError, match="more than 2 decimal places"):
        parse_amount("1.005", decimals=2)
    with pytest.raises(ValidationError, match="more than 0 decimal places"):
        parse_amount("1.5", decimals=0)


def test_parse_amount_rejects_zero_negative_and_absurd_values_unless_allowed():
    with pytest.raises(ValidationError, match="greater than zero"):
        parse_amount("0.00", decimals=2)
    with pytest.raises(ValidationError, match="negative"):
        parse_amount("-1", decimals=2)
    with pytest.raises(ValidationError, match="too large"):
        parse_amount(str(10**14), decimals=2)
    assert parse_amount("0", decimals=2, allow_zero=True) == 0
    assert parse_amount("-1.50", decimals=2, allow_negative=True) == -150
    assert parse_amount(str(MAX_MINOR // 100), decimals=2) == MAX_MINOR


@pytest.mark.parametrize(
    ("minor", "decimals", "text"),
    [
        (15000, 2, "150.00"),
        (1, 2, "0.01"),
        (-150, 2, "-1.50"),
        (3, 0, "3"),
        (0, 2, "0.00"),
        (5, 3, "0.005"),
    ],
)
def test_format_amount(minor, decimals, text):
    assert format_amount(minor, decimals=decimals) == text
    if minor > 0:
        assert parse_amount(text, decimals=decimals) == minor
