"""Property-based fuzzing of the register reader on corrupted real lines.

Whatever is done to a register line (truncation, dropped or doubled
delimiters, random bytes, another encoding, a huge field, shuffled columns),
reading ends in loaded-or-quarantined records or one clear UserError: never
another exception, never a line lost, never an untouched line altered.
A longer run: `uv run python bench/fuzz_reader.py`.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.deals import build_deals
from etl.errors import UserError
from etl.sources.detect import REGISTER, detect_kind
from etl.sources.sipri_register import read_register
from etl.sources.text import read_text
from tests.conftest import HEADER_16, PREAMBLE, REGISTER as REGISTER_NAME, sipri_file

EXAMPLES = int(os.environ.get("ARMSDASH_FUZZ_EXAMPLES", "60"))
WINDOW = 6


@pytest.fixture(scope="module")
def real_lines() -> list[str]:
    text = sipri_file(REGISTER_NAME).read_bytes().decode("latin-1")
    lines = text.split("\n")[12:]
    return [line for line in lines if line.count(",") == 15 and '"' not in line]


def corrupt(line: str, op: str, data: st.DataObject) -> str:
    fields = line.split(",")
    if op == "truncate":
        return line[: data.draw(st.integers(0, max(0, len(line) - 1)))]
    if op == "drop_delimiter":
        i = data.draw(st.integers(0, len(fields) - 2))
        return ",".join(fields[:i] + [fields[i] + fields[i + 1]] + fields[i + 2:])
    if op == "double_delimiter":
        i = data.draw(st.integers(1, len(fields) - 1))
        return ",".join(fields[:i] + [""] + fields[i:])
    if op == "line_break":
        i = data.draw(st.integers(1, max(1, len(line) - 1)))
        return line[:i] + data.draw(st.sampled_from(["\n", "\r\n"])) + line[i:]
    if op == "random_text":
        junk = data.draw(st.text(st.characters(blacklist_characters="\r\n"), min_size=1, max_size=20))
        i = data.draw(st.integers(0, len(line)))
        return line[:i] + junk + line[i:]
    if op == "huge_field":
        i = data.draw(st.integers(0, len(fields) - 1))
        fields[i] = "x" * data.draw(st.integers(10_000, 200_000))
        return ",".join(fields)
    if op == "shuffle":
        return ",".join(data.draw(st.permutations(fields)))
    raise AssertionError(op)


def parse(path):
    source = read_text(path)
    if detect_kind(source) != REGISTER:
        raise UserError("not a register")
    register = read_register(source)
    deals, quarantined = build_deals(register.records)
    return register, deals, quarantined


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), op=st.sampled_from(["truncate", "drop_delimiter", "double_delimiter", "random_text",
                                           "huge_field", "shuffle", "line_break"]),
       encoding=st.sampled_from(["latin-1", "utf-8", "cp1252", "utf-16"]))
def test_corrupted_lines_are_loaded_or_quarantined(real_lines, tmp_path, data, op, encoding):
    start = data.draw(st.integers(0, len(real_lines) - WINDOW))
    lines = real_lines[start : start + WINDOW]
    victim = data.draw(st.integers(0, WINDOW - 1))
    damaged = list(lines)
    damaged[victim] = corrupt(lines[victim], op, data)
    first = len(PREAMBLE) + 2  # physical line of the first record
    # physical line where each row starts in the damaged file (a line break adds one)
    starts = [first + i + (i > victim) * damaged[victim].count("\n") for i in range(WINDOW)]

    def write(name, rows):
        path = tmp_path / name
        text = "\n".join([*PREAMBLE, HEADER_16, *rows]) + "\n"
        path.write_bytes(text.encode(encoding, errors="replace"))
        return path

    _, clean, _ = parse(write("clean.csv", lines))
    try:
        register, deals, quarantined = parse(write("damaged.csv", damaged))
    except UserError:
        return  # a clean refusal is an allowed outcome
    # every record read became a deal or was quarantined with its reasons
    assert set(deals["line"]) | set(quarantined["line"]) == set(register.records["line"])
    assert not set(deals["line"]) & set(quarantined["line"])
    # nothing lost: every non-blank physical line is in a record read or in the quarantine
    covered = set()
    for frame in (register.records, register.quarantine):
        for a, b in zip(frame["line"], frame["last_line"]):
            covered.update(range(a, b + 1))
    for i, row in enumerate(damaged):
        for k, part in enumerate(row.split("\n")):
            if part.strip(" ,;\t\r"):
                assert starts[i] + k in covered, (op, i, part[:80])
    # untouched rows come out exactly as from the clean file
    joined = register.records[register.records["last_line"] > register.records["line"]]
    spans = [range(a, b + 1) for a, b in zip(joined["line"], joined["last_line"])]
    untouched = [i for i in range(WINDOW) if i != victim and not any(starts[i] in r for r in spans)]
    columns = ["supplier", "recipient", "order_year", "designation", "number_ordered",
               "tiv_delivered", "delivery_years", "comments"]
    ours = deals.set_index("line").reindex([starts[i] for i in untouched])[columns].reset_index(drop=True)
    theirs = clean.set_index("line").reindex([first + i for i in untouched])[columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, theirs)
