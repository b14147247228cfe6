"""Settings: one table of (name, environment variable, default, help)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: str
    help: str

    def value(self) -> str:
        return os.environ.get(self.env) or self.default


SETTINGS = {
    s.name: s
    for s in (
        Setting("db", "ARMSDASH_DB", str(PROJECT_DIR / "data" / "armsdash.duckdb"),
                "DuckDB database file used by every command (created on first load)"),
    )
}


def default_db() -> Path:
    return Path(SETTINGS["db"].value())
