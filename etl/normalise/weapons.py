"""SIPRI weapon categories for the free-text weapon descriptions of a register.

Registers carry only a description, spelled differently between vintages
("APC" / "armoured personnel carrier"), while SIPRI reports its totals by
category. The mapping itself lives in data/ so that every category a journalist
quotes can be traced to the evidence in the `note` column; this module only
applies it, in order of precedence:

1. `weapon_category_overrides.csv` (optional): a designation whose
   description is shared by items SIPRI files under different categories;
2. `weapon_categories.csv`: the category of every description SIPRI is known
   to use;
3. `weapon_category_rules.csv`: ordered regex fallbacks (first match wins) so
   that a description from an unseen vintage still gets a reviewable category;
4. otherwise "" with source `unresolved`, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pandas as pd

from etl.normalise.text import text_key, text_keys
from etl.reference import DATA_DIR, ReferenceError, reference_table

CATEGORIES = (
    "Aircraft",
    "Air defence systems",
    "Armoured vehicles",
    "Artillery",
    "Engines",
    "Missiles",
    "Naval weapons",
    "Other",
    "Satellites",
    "Sensors",
    "Ships",
)

TABLE = "weapon_categories.csv"
OVERRIDES = "weapon_category_overrides.csv"
RULES = "weapon_category_rules.csv"


@dataclass(frozen=True)
class CategoryMapping:
    """Validated reference tables, keyed by `text_key` so spelling noise cannot miss."""

    table: dict[str, str]
    overrides: dict[tuple[str, str], str]
    rules: tuple[tuple[re.Pattern[str], str], ...]

    @classmethod
    def from_frames(
        cls,
        table: pd.DataFrame,
        rules: pd.DataFrame,
        overrides: pd.DataFrame | None = None,
    ) -> CategoryMapping:
        """Check all three tables and report every problem at once, so one edit fixes them all."""
        problems: list[str] = []
        overrides = overrides if overrides is not None else pd.DataFrame(
            columns=["designation", "description", "category"]
        )
        for name, frame in ((TABLE, table), (RULES, rules), (OVERRIDES, overrides)):
            for line, category in zip(range(2, len(frame) + 2), frame["category"]):
                if category not in CATEGORIES:
                    problems.append(f"{name} line {line}: unknown category {category!r}")

        keys = [text_key(d) for d in table["description"]]
        problems += _duplicates(TABLE, keys)
        problems += [f"{TABLE} line {i + 2}: empty description" for i, k in enumerate(keys) if not k]

        pairs = [
            (text_key(g), text_key(d))
            for g, d in zip(overrides["designation"], overrides["description"])
        ]
        problems += _duplicates(OVERRIDES, pairs)
        problems += [
            f"{OVERRIDES} line {i + 2}: designation and description are both required"
            for i, (g, d) in enumerate(pairs)
            if not (g and d)
        ]

        compiled = []
        for line, pattern, category in zip(range(2, len(rules) + 2), rules["pattern"], rules["category"]):
            if not pattern.strip():
                problems.append(f"{RULES} line {line}: empty pattern")
                continue
            try:
                compiled.append((re.compile(pattern, re.IGNORECASE), category))
            except re.error as exc:
                problems.append(f"{RULES} line {line}: pattern {pattern!r} does not compile: {exc}")

        if problems:
            raise ReferenceError("weapon category tables are invalid:\n  " + "\n  ".join(problems))
        return cls(
            table=dict(zip(keys, table["category"])),
            overrides=dict(zip(pairs, overrides["category"])),
            rules=tuple(compiled),
        )

    def resolve(self, key: str) -> tuple[str, str]:
        """Category and source of one description key (table, then rules)."""
        if key in self.table:
            return self.table[key], "table"
        for pattern, category in self.rules:
            if key and pattern.search(key):
                return category, "rule"
        return "", "unresolved"

    def categorise(
        self, descriptions: pd.Series, designations: pd.Series | None = None
    ) -> pd.DataFrame:
        """Category per row, resolved once per distinct description (a register has ~300)."""
        keys = text_keys(descriptions)
        resolved = {k: self.resolve(k) for k in pd.unique(keys)}
        category = keys.map({k: v[0] for k, v in resolved.items()})
        source = keys.map({k: v[1] for k, v in resolved.items()})
        if designations is not None and self.overrides:
            if not designations.index.equals(descriptions.index):
                raise ValueError("designations must be indexed like descriptions")
            wanted = pd.MultiIndex.from_arrays([text_keys(designations), keys])
            known = pd.Series(
                list(self.overrides.values()),
                index=pd.MultiIndex.from_tuples(list(self.overrides)),
                dtype=object,
            )
            override = pd.Series(known.reindex(wanted).to_numpy(), index=descriptions.index)
            hit = override.notna()
            category = category.mask(hit, override)
            source = source.mask(hit, "override")
        return pd.DataFrame(
            {"category": category.astype(str), "category_source": source.astype(str)},
            index=descriptions.index,
        )


def _duplicates(name: str, keys: list) -> list[str]:
    seen: dict = {}
    for line, key in zip(range(2, len(keys) + 2), keys):
        seen.setdefault(key, []).append(line)
    return [
        f"{name} lines {', '.join(map(str, lines))}: duplicate key {key!r}"
        for key, lines in seen.items()
        if len(lines) > 1
    ]


@cache
def reference_mapping() -> CategoryMapping:
    """The mapping from data/, validated on first use; the overrides table is optional."""
    overrides = (
        reference_table(OVERRIDES, ["designation", "description", "category"])
        if (DATA_DIR / OVERRIDES).exists()
        else None
    )
    return CategoryMapping.from_frames(
        reference_table(TABLE, ["description", "category"]),
        reference_table(RULES, ["pattern", "category"]),
        overrides,
    )


def categorise(descriptions: pd.Series, designations: pd.Series | None = None) -> pd.DataFrame:
    """`category` ("" when unresolved) and `category_source` for each row of a register.

    Pass `designations` (indexed like `descriptions`) so that per-designation
    overrides can apply.
    """
    return reference_mapping().categorise(descriptions, designations)
