"""`armsdash diff`: what changed between two releases of the register, deal by deal.

SIPRI's registers have no deal id, and SIPRI revises its data every spring:
TIVs and deliveries are corrected, deals are added and dropped, systems are
renamed ("ASV-150/M-1117" became "M-1117 Guardian"), countries renamed
(Turkey/Turkiye). A line-by-line diff would report every revision as one
deal removed and another added; here deals are paired by meaning instead:

1. identical deals (every compared field equal, names canonical) pair first;
2. the rest pair within the same supplier, recipient and order year, on the
   evidence of their designations (`etl.normalise.designations`) and how
   many other fields agree: the same designation always pairs (one to one,
   the closest first); a related or near designation (a rename) needs three
   agreeing fields, an unlike one the same description and five;
3. then an order year moved by up to two years, with a related designation
   and four agreeing fields.

A pair that differs is `changed`, with every differing field named; what is
left is `added` or `removed`. So added − removed is always the change in the
number of deals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from etl.errors import UserError
from etl.normalise.designations import NEAR, RELATED, SAME, designation_level
from etl.pairing import candidates, one_to_one

INTS = ("order_year", "number_ordered", "number_delivered")
FLOATS = ("tiv_per_unit", "tiv_total_order", "tiv_delivered")
BOOLS = ("order_year_estimated", "number_ordered_estimated", "number_delivered_estimated")
TEXTS = ("designation", "description", "delivery_years", "status", "comments")
FIELDS = ("designation", "description", "order_year", "order_year_estimated", "number_ordered",
          "number_ordered_estimated", "number_delivered", "number_delivered_estimated", "delivery_years",
          "status", "comments", "tiv_per_unit", "tiv_total_order", "tiv_delivered")
FACTS = tuple(f for f in FIELDS if f not in ("designation", "order_year"))
KEY = ["change", "recipient", "supplier", "order_year", "designation", "changed_fields"]
COLUMNS = [*KEY, "tiv_delivered_change", "deal_id_old", "deal_id_new",
           *(f"{f}_{side}" for f in FIELDS for side in ("old", "new"))]
_SNAPSHOT = re.compile(r"^snapshot:(\d+|current|previous)$", re.IGNORECASE)


@dataclass
class Side:
    label: str
    deals: pd.DataFrame  # deal_id, supplier, recipient, FIELDS as comparable text, tiv (float)


@dataclass
class Diff:
    rows: pd.DataFrame  # COLUMNS
    old: Side
    new: Side
    unchanged: int
    renamed: int  # changed pairs whose designation changed
    moved: int  # changed pairs whose order year changed

    def count(self, change: str) -> int:
        return int((self.rows["change"] == change).sum())

    def tiv(self, change: str) -> float:
        return float(self.rows.loc[self.rows["change"] == change, "tiv_delivered_change"].sum())


def comparable(deals: pd.DataFrame) -> pd.DataFrame:
    """Each compared field as text, so that equality means the same value whatever the source's dtypes."""
    out = pd.DataFrame({"deal_id": deals["deal_id"].astype(str), "supplier": deals["supplier"].astype(str),
                        "recipient": deals["recipient"].astype(str)}, index=deals.index)
    for f in INTS:
        out[f] = pd.to_numeric(deals[f], errors="coerce").round().astype("Int64").astype("string").fillna("")
    for f in FLOATS:
        text = pd.to_numeric(deals[f], errors="coerce").astype(float).round(6).astype(str)
        # missing stays missing as "" (with Arrow strings astype(str) keeps NaN as NA, not "nan")
        out[f] = text.str.replace(r"\.0$", "", regex=True).replace("nan", "").fillna("")
    for f in BOOLS:
        out[f] = deals[f].fillna(False).astype(bool).map({True: "true", False: "false"})
    for f in TEXTS:
        out[f] = deals[f].fillna("").astype(str).str.strip()
    out["tiv"] = pd.to_numeric(deals["tiv_delivered"], errors="coerce").astype(float)
    return out.reset_index(drop=True)


def _agreeing(pairs: pd.DataFrame) -> pd.Series:
    return sum((pairs[f"{f}_l"] == pairs[f"{f}_r"]).astype(int) for f in FACTS)


def pair_deals(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """(l, r) positions of old and new deals that are one deal, one to one."""
    exact_cols = ["supplier", "recipient", *FIELDS]
    left = old.assign(l=range(len(old)), n=old.groupby(exact_cols).cumcount())
    right = new.assign(r=range(len(new)), n=new.groupby(exact_cols).cumcount())
    same = left[[*exact_cols, "n", "l"]].merge(right[[*exact_cols, "n", "r"]], on=[*exact_cols, "n"])[["l", "r"]]
    rest_l = old[~left["l"].isin(same["l"])]
    rest_r = new[~right["r"].isin(same["r"])]
    kept = [same]
    first = candidates(rest_l.reset_index(drop=True).assign(_l=rest_l.index),
                       rest_r.reset_index(drop=True).assign(_r=rest_r.index), ["supplier", "recipient", "order_year"])
    if len(first):
        level, facts = designation_level(first["designation_l"], first["designation_r"]), _agreeing(first)
        ok = ((level == SAME) | ((level >= NEAR) & (facts >= 3))
              | ((first["description_l"] == first["description_r"]) & (facts >= 5)))
        first = first.assign(score=level * 20 + facts)[ok]
        taken = one_to_one(first)
        kept.append(pd.DataFrame({"l": taken["_l"], "r": taken["_r"]}))
    done = pd.concat(kept, ignore_index=True)
    rest_l = old[~old.index.isin(done["l"])]
    rest_r = new[~new.index.isin(done["r"])]
    second = rest_l.assign(_l=rest_l.index).merge(rest_r.assign(_r=rest_r.index), on=["supplier", "recipient"],
                                                  suffixes=("_l", "_r"))
    years = pd.to_numeric(second["order_year_l"], errors="coerce") - pd.to_numeric(second["order_year_r"], errors="coerce")
    second = second[years.abs().between(1, 2)]
    if len(second):
        level, facts = designation_level(second["designation_l"], second["designation_r"]), _agreeing(second)
        second = second.assign(score=level * 20 + facts, l=second["_l"], r=second["_r"])[
            (level >= RELATED) & (facts >= 4)]
        taken = one_to_one(second)
        done = pd.concat([done, taken[["l", "r"]]], ignore_index=True)
    return done.astype(int)


def compare(old: Side, new: Side) -> Diff:
    a, b = old.deals, new.deals
    pairs = pair_deals(a, b)
    pa, pb = a.iloc[pairs["l"]].reset_index(drop=True), b.iloc[pairs["r"]].reset_index(drop=True)
    differs = {f: pa[f] != pb[f] for f in FIELDS}
    changed_fields = pd.Series("", index=pa.index)
    for f in FIELDS:
        changed_fields = changed_fields.where(~differs[f], changed_fields + ";" + f)
    changed_fields = changed_fields.str.lstrip(";")
    is_changed = changed_fields != ""
    changed = _rows("changed", pa[is_changed], pb[is_changed], changed_fields[is_changed])
    removed_deals = a[~a.index.isin(pairs["l"])]
    added_deals = b[~b.index.isin(pairs["r"])]
    rows = pd.concat([changed, _rows("removed", removed_deals, None), _rows("added", None, added_deals)],
                     ignore_index=True)
    order = {"added": 0, "removed": 1, "changed": 2}
    rows = rows.sort_values(["change", "recipient", "supplier", "order_year", "designation"],
                            key=lambda s: s.map(order) if s.name == "change" else s, kind="stable")
    return Diff(rows[COLUMNS].reset_index(drop=True), old, new, unchanged=int((~is_changed).sum()),
                renamed=int((differs["designation"] & is_changed).sum()),
                moved=int((differs["order_year"] & is_changed).sum()))


def _rows(change: str, old: pd.DataFrame | None, new: pd.DataFrame | None, fields: pd.Series | None = None):
    """Output rows: identification from the newer side where there is one, old and new values beside."""
    ident = new if new is not None else old
    n = len(ident)
    out = pd.DataFrame({"change": [change] * n, "recipient": ident["recipient"].to_numpy(),
                        "supplier": ident["supplier"].to_numpy(), "order_year": ident["order_year"].to_numpy(),
                        "designation": ident["designation"].to_numpy(),
                        "changed_fields": fields.to_numpy() if fields is not None else [""] * n})
    tiv_old = old["tiv"].fillna(0).to_numpy() if old is not None else 0.0
    tiv_new = new["tiv"].fillna(0).to_numpy() if new is not None else 0.0
    out["tiv_delivered_change"] = (pd.Series(tiv_new - tiv_old, dtype=float) if n else pd.Series(dtype=float)).round(6)
    for side, frame in (("old", old), ("new", new)):
        out[f"deal_id_{side}"] = frame["deal_id"].to_numpy() if frame is not None else ""
        for f in FIELDS:
            out[f"{f}_{side}"] = frame[f].to_numpy() if frame is not None else ""
    return out


# --- the two sides: files or snapshots ---------------------------------------------------------

def open_side(ref: str, db: Path) -> Side:
    match = _SNAPSHOT.match(ref.strip())
    if match:
        return _snapshot(match.group(1).lower(), db)
    return _file(Path(ref))


def _file(path: Path) -> Side:
    from etl.load import _read_file, deal_ids
    from etl.sources.detect import TIV_TABLE

    read = _read_file(path)
    if read.kind == TIV_TABLE:
        raise UserError(f"{path}: a TIV table; diff compares trade registers (files or snapshot:N)")
    deals = read.deals.reset_index(drop=True)
    if deals.empty:
        raise UserError(f"{path}: no deal could be read")
    deals["deal_id"] = deal_ids(deals)
    generated = f", data generated {read.parsed.generated_date}" if read.parsed.generated_date else ""
    return Side(f"{path.name} ({len(deals):,} deals{generated})", comparable(deals))


def _snapshot(which: str, db: Path) -> Side:
    from etl import db as store

    con = store.reader(db)
    try:
        ids = [r[0] for r in con.execute(
            "SELECT snapshot_id FROM snapshots WHERE kind = 'register' ORDER BY snapshot_id").fetchall()]
        if which == "current":
            wanted = ids[-1] if ids else None
        elif which == "previous":
            wanted = ids[-2] if len(ids) >= 2 else None
        else:
            wanted = int(which) if int(which) in ids else None
        if wanted is None:
            listed = ", ".join(map(str, ids)) or "none"
            raise UserError(f"snapshot:{which}: no such register snapshot in {db} (register snapshots: {listed}; "
                            "see 'armsdash snapshots')")
        deals = con.execute("SELECT * FROM deals WHERE snapshot_id = ?", [wanted]).df()
        files = [r[0] for r in con.execute("SELECT source FROM sources WHERE snapshot_id = ? ORDER BY source",
                                           [wanted]).fetchall()]
    finally:
        con.close()
    return Side(f"snapshot {wanted} ({', '.join(files)}; {len(deals):,} deals)", comparable(deals))


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (as in `armsdash export`)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            text = out[col].astype(str)
            risky = text.str.match(r"^[=+\-@\t\r]") & ~text.str.fullmatch(r"-\d+(\.\d+)?")
            out[col] = text.where(~risky, "'" + text)
    return out


def summary(d: Diff) -> list[str]:
    old_n, new_n = len(d.old.deals), len(d.new.deals)
    added, removed, changed = d.count("added"), d.count("removed"), d.count("changed")
    revised = d.rows[(d.rows["change"] == "changed") & d.rows["changed_fields"].str.contains("tiv_delivered")]
    total_old, total_new = d.old.deals["tiv"].sum(), d.new.deals["tiv"].sum()
    return [
        f"old: {d.old.label}",
        f"new: {d.new.label}",
        f"{added:,} added, {removed:,} removed, {changed:,} changed ({d.renamed:,} with a new designation, "
        f"{d.moved:,} with another order year), {d.unchanged:,} unchanged; "
        f"added − removed = {added - removed:+,} = {new_n:,} − {old_n:,} deals",
        f"TIV delivered: {total_old:,.2f} → {total_new:,.2f} ({total_new - total_old:+,.2f}): added "
        f"{d.tiv('added'):+,.2f}, removed {d.tiv('removed'):+,.2f}, revised in {len(revised):,} changed deals "
        f"{d.tiv('changed'):+,.2f}",
    ]
