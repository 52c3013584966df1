"""A table preview of CSV/TSV files: the first rows, read with a bounded read."""
from __future__ import annotations

import csv
import io

PREVIEW_BYTES = 64 * 1024
PREVIEW_ROWS = 20
PREVIEW_COLUMNS = 30
TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t"}


def delimiter_for(basename: str) -> str | None:
    lower = basename.lower()
    for suffix, delimiter in TABLE_SUFFIXES.items():
        if lower.endswith(suffix):
            return delimiter
    return None


def table_preview(dist) -> dict | None:
    """``{"header": [...], "rows": [[...]], "truncated": bool}`` or None."""
    delimiter = delimiter_for(dist.basename)
    if delimiter is None:
        return None
    with dist.blob.open("r") as f:
        head = f.read(PREVIEW_BYTES + 1)
    truncated = len(head) > PREVIEW_BYTES
    text = head[:PREVIEW_BYTES].decode("utf-8", "replace")
    if truncated and "\n" in text:
        text = text[: text.rindex("\n")]
    rows = []
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            rows.append([cell[:200] for cell in row[:PREVIEW_COLUMNS]])
            if len(rows) > PREVIEW_ROWS:
                truncated = True
                break
    except csv.Error:
        return None
    if not rows:
        return None
    return {"header": rows[0], "rows": rows[1:PREVIEW_ROWS + 1], "truncated": truncated}
