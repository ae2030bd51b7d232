"""The one lenient number reader: Instantly's codes, steps and variants go through it."""

import pytest

from salesbrain.parsing import as_int


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2, 2),
        (-99, -99),
        ("2", 2),
        ("-99", -99),
        (" 3 ", 3),
        (" -2 ", -2),
        (2.0, 2),
        ("1.0", 1),
    ],
)
def test_whole_numbers_are_read_whatever_their_spelling(value, expected):
    assert as_int(value) == expected


@pytest.mark.parametrize(
    "value", [True, False, None, "", "two", 2.5, "2.5", "nan", "inf", float("nan"), [1], {"a": 1}]
)
def test_anything_else_is_none_not_a_crash(value):
    assert as_int(value) is None
