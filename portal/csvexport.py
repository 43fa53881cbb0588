"""The one CSV writer of the portal: every export writes through it, so no cell can run as a spreadsheet formula.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is what Excel, LibreOffice and
Google Sheets read as a formula (``=HYPERLINK(...)``, ``@SUM(...)``); following OWASP's advice on CSV injection it is
written with a leading single quote, which the spreadsheet shows as text. Numbers (int, Decimal, float) are written
as they are: a negative amount is a number, not a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.http import StreamingHttpResponse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeCsvWriter:
    """``csv.writer`` whose rows are neutralised cell by cell; ``writerow`` returns what the file's ``write`` did."""

    def __init__(self, out: Any) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise(cell) for cell in row])


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_rows(rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """Each row as one line of CSV text, neutralised."""
    writer = SafeCsvWriter(_Echo())
    for row in rows:
        yield writer.writerow(row)


def csv_response(filename: str, rows: Iterable[Sequence[Any]]) -> StreamingHttpResponse:
    """A CSV download streamed row by row (the audit log can be long)."""
    response = StreamingHttpResponse(csv_rows(rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
