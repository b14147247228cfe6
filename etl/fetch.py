"""`armsdash fetch`: the whole register from SIPRI's service, then the same load as a file.

SIPRI's backend is undocumented (../shared/docs/sipri-api.md lists what public
clients do), so everything about its answer is checked rather than assumed,
and every failure is one line naming the URL. The raw answer is written to
disk, with the time it was fetched in its name, before anything is parsed:
when SIPRI changes its format, the evidence is there to look at, and a
figure in print can be traced to the exact bytes it came from.

Only the standard library talks to the network (urllib), so fetching adds no
dependency and nothing to the import time of `armsdash load`.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from etl.errors import UserError

DEFAULT_BASE = "https://atbackend.sipri.org/api/p"
REGISTER_PATH = "/trades/trade-register-csv/"
PUBLIC_APP = "https://armstransfers.sipri.org"
FIRST_YEAR = 1950
MAX_BYTES = 256 * 1024 * 1024  # the whole register is about 5 MB as base64
RETRY_STATUSES = {408, 425, 429, 500, 502, 503, 504}


@dataclass
class Fetched:
    url: str
    raw_path: Path  # the answer exactly as received
    register_path: Path  # the CSV decoded from it, which is what gets loaded
    size: int
    attempts: int


def register_request(last_year: int) -> dict:
    """The filter body SIPRI's public app sends, for every deal with deliveries 1950..last_year or none yet.

    No recipient or supplier filter (the app restricts with id lists; an
    absent filter restricts nothing); "opendeals" includes deals without
    deliveries so far, which a delivery-year range alone would leave out.
    """
    return {
        "filters": [
            {"field": "Delivery year", "oldField": "", "condition": "contains",
             "value1": FIRST_YEAR, "value2": last_year, "listData": []},
            {"field": "opendeals", "oldField": "", "condition": "", "value1": "", "value2": "", "listData": []},
        ],
        "logic": "AND",
    }


def register_url(base_url: str) -> str:
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UserError(f"--base-url {base_url!r}: not an http(s) URL")
    return base_url.rstrip("/") + REGISTER_PATH


class _Retryable(Exception):
    """A failure worth another attempt: the service may answer next time."""


def _post(url: str, body: bytes, timeout: float, on_progress: Callable[[int, int | None], None]) -> bytes:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "Accept": "application/json",
        "User-Agent": "armsdash (+https://github.com/armsdash)", "Origin": PUBLIC_APP, "Referer": PUBLIC_APP + "/",
    })
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            chunks, size = [], 0
            while chunk := response.read(64 * 1024):
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BYTES:
                    raise UserError(f"{url}: answer larger than {MAX_BYTES // 2**20} MB; not a register")
                on_progress(size, total)
            return b"".join(chunks)
    except urllib.error.HTTPError as exc:
        message = f"HTTP error {exc.code} {exc.reason}".rstrip()
        if exc.code in RETRY_STATUSES:
            raise _Retryable(message) from None
        raise UserError(f"{url}: the service answered {message}; nothing was changed") from None
    except (TimeoutError, socket.timeout):
        raise _Retryable(f"no answer within {timeout:g} s") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise _Retryable(f"no answer within {timeout:g} s") from None
        raise _Retryable(f"unreachable ({getattr(reason, 'strerror', None) or reason})") from None
    except (ConnectionError, OSError) as exc:  # reset or refused mid-answer
        raise _Retryable(f"connection failed ({exc.strerror or exc})") from None


def download(url: str, body: bytes, timeout: float, retries: int, backoff: float,
             say: Callable[[str], None], on_progress: Callable[[int, int | None], None]) -> tuple[bytes, int]:
    """(answer, attempts): up to 1 + `retries` attempts, waiting backoff, 2 x backoff, 4 x backoff..."""
    for attempt in range(1, retries + 2):
        try:
            return _post(url, body, timeout, on_progress), attempt
        except _Retryable as exc:
            if attempt > retries:
                tries = f" after {attempt} attempts" if attempt > 1 else ""
                raise UserError(f"{url}: {exc}{tries}; nothing was changed") from None
            wait = backoff * 2 ** (attempt - 1)
            say(f"{url}: {exc}; attempt {attempt + 1} of {retries + 1} in {wait:g} s")
            time.sleep(wait)
    raise AssertionError("unreachable")


def decode_answer(url: str, raw: bytes) -> bytes:
    """The CSV bytes inside SIPRI's `{"bytes": "<base64>"}`; UserError for anything else."""
    try:
        answer = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        start = raw[:60].decode("utf-8", errors="replace").strip()
        raise UserError(f"{url}: the answer is not JSON (it starts {start!r}); nothing was changed") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("bytes"), str):
        shape = f"an object with keys {sorted(answer)[:5]}" if isinstance(answer, dict) else type(answer).__name__
        raise UserError(f"{url}: the answer is JSON but not SIPRI's {{\"bytes\": ...}} ({shape}); nothing was changed")
    text = "".join(answer["bytes"].split())
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise UserError(f"{url}: the answer's \"bytes\" is not base64; nothing was changed") from None
    if not data.strip():
        raise UserError(f"{url}: the answer's \"bytes\" is empty; nothing was changed")
    return data


def _write(path: Path, data: bytes) -> None:
    """Whole or not at all: a fetch interrupted while saving leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.partial")
    temp.write_bytes(data)
    os.replace(temp, path)


def fetch_register(base_url: str, save_dir: Path, *, timeout: float = 120, retries: int = 3, backoff: float = 2.0,
                   say: Callable[[str], None] = lambda _: None,
                   on_progress: Callable[[int, int | None], None] = lambda *_: None,
                   now: datetime | None = None) -> Fetched:
    """Download, keep the raw answer, decode; the CSV is checked to be a register before it is kept."""
    url = register_url(base_url)
    now = now or datetime.now(timezone.utc)
    body = json.dumps(register_request(now.year - 1)).encode("utf-8")
    raw, attempts = download(url, body, timeout, retries, backoff, say, on_progress)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    raw_path = save_dir / f"sipri-trade-register-{stamp}.json"
    try:
        _write(raw_path, raw)
    except OSError as exc:
        raise UserError(f"{raw_path}: cannot save the answer of {url} ({exc.strerror or exc})") from None
    data = decode_answer(url, raw)
    from etl.sources.detect import REGISTER, detect_kind  # pandas: only once there is a file to look at
    from etl.sources.text import TextFile, decode

    try:
        text, encoding = decode(data, url)
        kind = detect_kind(TextFile(raw_path, "", len(data), encoding, text))
    except UserError:
        kind = None
    if kind != REGISTER:
        raise UserError(f"{url}: the answer decodes to something that is not a SIPRI trade register "
                        f"(kept in {raw_path}); nothing was changed")
    register_path = save_dir / f"sipri-trade-register-{stamp}.csv"
    _write(register_path, data)
    return Fetched(url, raw_path, register_path, len(raw), attempts)


def fetch_and_load(base_url: str, db: Path, console, *, timeout: float = 120, retries: int = 3,
                   backoff: float = 2.0, strict: bool = False):
    """(Fetched, LoadReport): the download with a progress display on `console`, then `load`.

    The raw answer goes to `fetched/` beside the database (data/fetched/ for
    the default database), so answers stay with the data they were loaded into.
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn, TransferSpeedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=30), DownloadColumn(),
               TransferSpeedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        host = urllib.parse.urlsplit(register_url(base_url)).netloc
        task = progress.add_task(f"SIPRI register from {host}", total=None)
        fetched = fetch_register(
            base_url, db.parent / "fetched", timeout=timeout, retries=retries, backoff=backoff,
            # retry notices only where someone watches: a log keeps the contract's one error line
            say=lambda line: console.is_terminal and progress.console.print(line, markup=False, highlight=False),
            on_progress=lambda done, total: progress.update(task, completed=done, total=total))
    from etl.load import load  # pandas and DuckDB only once there is something to load

    try:
        report = load([fetched.register_path], db, strict=strict)
    except UserError as exc:
        raise UserError(f"{fetched.url}: {exc} (answer kept in {fetched.raw_path})") from None
    return fetched, report
