"""Turning a file's bytes into lines of text, whatever the spreadsheet did to it.

SIPRI exports Latin-1; colleagues re-save as UTF-8 (with or without BOM),
Windows-1252 or Excel's "Unicode text" (UTF-16). We decode by trying the strict
codecs first and fall back to Latin-1, which never fails; the codec used is
kept as provenance.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from etl.errors import UserError

# Control characters other than tab, CR, LF never appear in a text register.
_CONTROL = bytes(range(0, 32)).replace(b"\t", b"").replace(b"\n", b"").replace(b"\r", b"")


@dataclass(frozen=True)
class TextFile:
    path: Path
    sha256: str
    size: int
    encoding: str
    text: str


def read_bytes(path: Path) -> bytes:
    try:
        if path.is_dir():
            raise UserError(f"{path}: is a directory, not a file")
        return path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except PermissionError:
        raise UserError(f"{path}: permission denied") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror or exc})") from None


def decode(data: bytes, name: str) -> tuple[str, str]:
    """(text, encoding) of `data`; UserError for empty or binary content."""
    if not data.strip():
        raise UserError(f"{name}: file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise UserError(f"{name}: not readable as UTF-16 text") from None
    head = data[:65536]
    if b"\x00" in head or sum(head.count(bytes([c])) for c in _CONTROL) > len(head) // 100:
        raise UserError(f"{name}: binary file, not a CSV text export")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    for codec in ("utf-8", "cp1252"):
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def read_text(path: Path) -> TextFile:
    data = read_bytes(path)
    text, encoding = decode(data, str(path))
    return TextFile(path, hashlib.sha256(data).hexdigest(), len(data), encoding, text)


def split_lines(text: str) -> list[str]:
    """Physical lines: LF and CRLF endings, or CR alone where a file has no LF at all.

    A lone CR inside an LF file is a stray character in a field, not a line end.
    """
    if "\n" not in text:
        return text.split("\r")
    return text.replace("\r\n", "\n").split("\n")
