"""A streaming ``multipart/form-data`` reader for the S3-style upload POST.

WebOb's form parsing copies a file part to its own temporary file before the
view sees it; a 1 GB upload would then be written twice.  This reader walks the
parts in order straight off ``wsgi.input`` and hands out the file part as a
stream that :func:`anarepo.storage.spool` copies, hashes and measures in one pass.
Small fields are read into memory with a size limit.
"""
from __future__ import annotations

import re

CHUNK = 1 << 16
MAX_HEADER_BYTES = 16 * 1024
MAX_FIELD_BYTES = 64 * 1024
#: a form holds at most this many parts (unless its reader is given another bound)
#: and this much field text
MAX_PARTS = 256
MAX_FIELDS_TOTAL = 1024 * 1024

_BOUNDARY = re.compile(r'boundary="?([^";]{1,200})"?', re.I)
_DISPOSITION_PARAM = re.compile(r';\s*([a-zA-Z*]+)="?([^";]*)"?')


class MultipartError(ValueError):
    pass


def boundary_of(content_type: str) -> bytes:
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        raise MultipartError("expected multipart/form-data")
    match = _BOUNDARY.search(content_type)
    if not match:
        raise MultipartError("the multipart boundary is missing")
    return match.group(1).encode("latin-1")


class Part:
    """One part: its headers, its form name and filename, and its body as a stream."""

    def __init__(self, reader: "MultipartReader", headers: dict):
        self.reader = reader
        self.headers = headers
        params = dict(_DISPOSITION_PARAM.findall(headers.get("content-disposition", "")))
        self.name = params.get("name")
        self.filename = params.get("filename")
        self.finished = False

    def read(self, size: int = CHUNK) -> bytes:
        if self.finished:
            return b""
        data, self.finished = self.reader._read_body(size)
        return data

    def read_all(self, limit: int = MAX_FIELD_BYTES) -> bytes:
        out = bytearray()
        while not self.finished:
            data = self.read(CHUNK)
            out += data
            self.reader.field_bytes += len(data)
            if len(out) > limit:
                raise MultipartError(f"the form field {self.name!r} is too large")
            if self.reader.field_bytes > MAX_FIELDS_TOTAL:
                raise MultipartError(f"the form fields are larger than {MAX_FIELDS_TOTAL} bytes in all")
        return bytes(out)


class MultipartReader:
    def __init__(self, stream, boundary: bytes, length: int | None = None, max_parts: int = MAX_PARTS):
        self.stream = stream
        self.max_parts = max_parts
        self.remaining = length
        self.buf = bytearray()
        self.eof = False
        self.separator = b"\r\n--" + boundary
        self.closed = False  # after the closing ``--boundary--``
        self.started = False
        self.parts = 0
        self.field_bytes = 0

    def _fill(self, want: int = CHUNK) -> bool:
        if self.eof:
            return False
        size = want if self.remaining is None else min(want, self.remaining)
        if size <= 0:
            self.eof = True
            return False
        chunk = self.stream.read(size)
        if not chunk:
            self.eof = True
            return False
        if self.remaining is not None:
            self.remaining -= len(chunk)
        self.buf += chunk
        return True

    def _start(self) -> None:
        # the body begins with "--boundary\r\n" (a preamble before it is allowed)
        first = self.separator[2:]
        while True:
            index = self.buf.find(first)
            if index >= 0:
                del self.buf[: index + len(first)]
                break
            if len(self.buf) > MAX_HEADER_BYTES or not self._fill():
                raise MultipartError("the multipart body does not start with its boundary")
        self.started = True
        self._after_separator()

    def _after_separator(self) -> None:
        while len(self.buf) < 2 and self._fill():
            pass
        if self.buf[:2] == b"--":
            self.closed = True
            self.buf.clear()
        elif self.buf[:2] == b"\r\n":
            del self.buf[:2]
        else:
            raise MultipartError("malformed multipart boundary")

    def next_part(self) -> Part | None:
        if not self.started:
            self._start()
        if self.closed:
            return None
        self.parts += 1
        if self.parts > self.max_parts:
            raise MultipartError(f"the form has more than {self.max_parts} parts")
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self.buf) > MAX_HEADER_BYTES or not self._fill():
                raise MultipartError("the multipart part headers are incomplete")
        raw_headers = bytes(self.buf[:end]).decode("utf-8", "replace")
        del self.buf[: end + 4]
        headers = {}
        for line in raw_headers.split("\r\n"):
            key, sep, value = line.partition(":")
            if sep:
                headers[key.strip().lower()] = value.strip()
        return Part(self, headers)

    def _read_body(self, size: int) -> tuple[bytes, bool]:
        """Up to ``size`` bytes of the current part; True once the part has ended."""
        sep = self.separator
        while True:
            index = self.buf.find(sep)
            if index >= 0:
                if index > size:
                    data = bytes(self.buf[:size])
                    del self.buf[:size]
                    return data, False
                data = bytes(self.buf[:index])
                del self.buf[: index + len(sep)]
                self._after_separator()
                return data, True
            safe = len(self.buf) - len(sep) + 1
            if safe >= size:
                data = bytes(self.buf[:size])
                del self.buf[:size]
                return data, False
            if not self._fill(max(CHUNK, size)):
                raise MultipartError("the multipart body ended before its closing boundary")
