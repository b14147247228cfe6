"""Shared fixtures: the real SIPRI files from ../shared, registers built inline, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SIPRI = (ROOT / ".." / "shared" / "data" / "sipri").resolve()
REGISTER = "trade-register-2025-03.csv"
ARMSDASH = Path(sys.executable).with_name("armsdash")

HEADER_16 = ("Recipient,Supplier,Year of order, ,Number ordered, ,Weapon designation,Weapon description,"
             "Number delivered, ,Year(s) of delivery,status,Comments,SIPRI TIV per unit,"
             "SIPRI TIV for total order,SIPRI TIV of delivered weapons")
HEADER_13 = ("Recipient,Supplier,Year of order,Number ordered,Weapon designation,Weapon description,"
             "Number delivered,Year(s) of delivery,status,Comments,SIPRI TIV per unit,"
             "SIPRI TIV for total order,SIPRI TIV of delivered weapons")
PREAMBLE = [
    "Transfers of major conventional arms (test fixture written for armsdash)",
    "A '?' in a column indicates uncertain data.",
    "SIPRI trend-indicator values (TIVs) are in millions.",
    "",
    "Source: SIPRI Arms Transfers Database (c) SIPRI.",
    "Data generated: 02 Feb 2024 09:15:00 AM",
]
# Invented deals in the register's shape (16 fields); names are real so they resolve.
ROWS = [
    ["Chile", "Netherlands", "2005", "", "2", "", "Doorman", "frigate", "2", "", "2006; 2007",
     "Second hand", "$95 m deal; modernized before delivery", "150", "300", "300"],
    ["Côte d'Ivoire", "France", "2019", "?", "4", "?", "AS-365 Dauphin", "light helicopter", "3", "?",
     "2020; 2021; 2022", "New", "EUR40 m deal", "4.25", "17", "12.75"],
    ["Turkiye", "Russia", "2017", "", "2", "", "S-400 Triumf", "SAM system", "2", "", "2019",
     "New", "$2.5 b deal", "65", "130", "130"],
    ["India", "Russia", "2018", "", "10", "", "48N6", "SAM", "", "", "", "New",
     "For S-400 systems; FCS-4008 is unrelated", "1.1", "11", ""],
    ["Turkiye", "Italy", "2007", "", "50", "", "T-129B ATAK", "combat helicopter", "50", "", "2014",
     "New", "Part of $3 b programme", "0.2", "10", "0"],
]


def sipri_file(name: str) -> Path:
    """A file of ../shared/data/sipri: CI must have it (fail), a laptop may not (skip)."""
    path = SIPRI / name
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing and CI is set: real-data tests must run in CI")
        pytest.skip(f"{path} not available")
    return path


def register_text(rows=None, *, preamble=True, columns=16, delimiter=",", newline="\n", pad="",
                  year_sep="; ") -> str:
    """A register as text in one of SIPRI's (or a spreadsheet's) variants."""
    rows = ROWS if rows is None else rows
    header = HEADER_16 if columns == 16 else HEADER_13
    if delimiter != ",":
        header = header.replace(",", delimiter)
    lines = list(PREAMBLE) if preamble else []
    lines.append(header)
    for row in rows:
        row = list(row)
        row[10] = row[10].replace("; ", year_sep)
        if columns == 13:
            row = [v for i, v in enumerate(row) if i not in (3, 5, 9)]
        if delimiter != ",":  # a spreadsheet quotes what holds its delimiter
            row = [f'"{v}"' if delimiter in v else v for v in row]
        lines.append(delimiter.join(row))
    return newline.join(line + pad for line in lines) + newline


def write_register(path: Path, text: str | None = None, encoding: str = "latin-1", bom: bool = False,
                   **variant) -> Path:
    data = (text if text is not None else register_text(**variant)).encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def run_cli(*args: str, env: dict | None = None, input: bytes | None = None) -> subprocess.CompletedProcess:
    """The real `armsdash` console command, as a user runs it."""
    return subprocess.run([str(ARMSDASH), *map(str, args)], capture_output=True, input=input,
                          env={**os.environ, **(env or {})}, timeout=120)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "armsdash.duckdb"


@pytest.fixture(scope="session")
def real_register() -> Path:
    return sipri_file(REGISTER)


@pytest.fixture(scope="session")
def register_deals(real_register):
    """The full real register through the real reader and typing (no database)."""
    from etl.deals import build_deals
    from etl.sources.sipri_register import read_register
    from etl.sources.text import read_text

    deals, quarantined = build_deals(read_register(read_text(real_register)).records)
    assert len(deals) == 29_515 and quarantined.empty
    return deals


@pytest.fixture(scope="session")
def real_db(tmp_path_factory, real_register) -> Path:
    """The full real register loaded once through the real CLI, shared by read-only tests."""
    path = tmp_path_factory.mktemp("real") / "armsdash.duckdb"
    done = run_cli("load", real_register, "--db", path)
    assert done.returncode == 0, done.stderr.decode()
    return path
