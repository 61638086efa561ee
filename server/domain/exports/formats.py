"""The export formats: content type, file extension and writer of each.

The writers' libraries (openpyxl, fpdf2, ofxtools) take most of a second to
import; a writer module is imported when its format is first written, not
when the server (or any command of it) starts.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from server.domain.exports import PDF_LINES_MAX, csv_file
from server.domain.statements import StatementHeader, StatementLine

Writer = Callable[[StatementHeader, Iterable[StatementLine]], Iterator[bytes]]


def _lazy(module: str, name: str = "write") -> Writer:
    """`server.domain.exports.<module>.<name>`, imported on its first call."""

    def write(header: StatementHeader, lines: Iterable[StatementLine]) -> Iterator[bytes]:
        found: Writer = getattr(importlib.import_module(f"server.domain.exports.{module}"), name)
        return found(header, lines)

    return write


@dataclass(frozen=True)
class FileFormat:
    name: str  # as the API spells it, lower case
    content_type: str
    extension: str
    write: Writer
    lines_max: int | None = None  # the most lines one file may hold (None: any)


FORMATS: dict[str, FileFormat] = {
    f.name: f
    for f in (
        FileFormat("csv", "text/csv; charset=utf-8", "csv", csv_file.write),
        FileFormat(
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
            _lazy("xlsx_file"),
        ),
        FileFormat("pdf", "application/pdf", "pdf", _lazy("pdf_file"), PDF_LINES_MAX),
        FileFormat("ofx", "application/x-ofx", "ofx", _lazy("ofx_file")),
        FileFormat("qbo", "application/vnd.intu.qbo", "qbo", _lazy("ofx_file", "write_qbo")),
    )
}
DEFAULT = "csv"
