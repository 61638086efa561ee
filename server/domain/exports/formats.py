"""The export formats: content type, file extension and writer of each."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from server.domain.exports import csv_file, ofx_file, pdf_file, xlsx_file
from server.domain.statements import StatementHeader, StatementLine

Writer = Callable[[StatementHeader, Iterable[StatementLine]], Iterator[bytes]]


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
            xlsx_file.write,
        ),
        FileFormat("pdf", "application/pdf", "pdf", pdf_file.write, pdf_file.LINES_MAX),
        FileFormat("ofx", "application/x-ofx", "ofx", ofx_file.write),
        FileFormat("qbo", "application/vnd.intu.qbo", "qbo", ofx_file.write_qbo),
    )
}
DEFAULT = "csv"
