"""The portal's one CSV writer neutralises cells a spreadsheet would run as formulas."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from portal.csvexport import SafeCsvWriter, neutralise


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")'])
def test_text_that_starts_like_a_formula_gets_a_leading_quote(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["risk", "", "a=b", "arn:aws:sagemaker:...", Decimal("-3.25"), -4, 1.5, None])
def test_everything_else_is_written_as_it_is(value: object) -> None:
    assert neutralise(value) == value


def test_the_writer_neutralises_every_cell_of_a_row() -> None:
    out = io.StringIO()
    SafeCsvWriter(out).writerow(["=cmd", Decimal("-1.00"), "ok"])
    assert out.getvalue() == "'=cmd,-1.00,ok\r\n"
