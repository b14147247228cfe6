"""What a load tells the user: read, repaired, quarantined (with reasons), unresolved."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from etl.load import ATTRIBUTION, LoadReport

SHOW = 10


def print_load_report(out: Console, report: LoadReport, db: Path) -> None:
    for f in report.files:
        read = (f"{f.records:,} rows read" if f.kind == "tiv_table" else
                f"{f.records:,} records read: {f.deals:,} deals, {f.repaired:,} repaired, {f.quarantined:,} quarantined")
        out.print(f"{f.source}: {read} (encoding {f.encoding}; SIPRI data generated "
                  f"{f.generated or 'not stated'}; sha256 {f.sha256[:12]}...)", markup=False)
        for note in f.notes:
            out.print(f"  {note}", markup=False)
    if report.repairs is not None and len(report.repairs):
        out.print(f"Repaired {len(report.repairs):,} record(s):")
        for row in report.repairs.head(SHOW).itertuples():
            out.print(f"  {row.source} line {row.line}: {row.repair}", markup=False)
        if len(report.repairs) > SHOW:
            out.print(f"  ... and {len(report.repairs) - SHOW:,} more")
    if report.quarantine is not None and len(report.quarantine):
        out.print(f"Quarantined {len(report.quarantine):,} record(s) (armsdash export --table quarantine -o FILE):")
        for row in report.quarantine.head(SHOW).itertuples():
            out.print(f"  {row.source} line {row.line}: {row.reason}", markup=False)
        if len(report.quarantine) > SHOW:
            out.print(f"  ... and {len(report.quarantine) - SHOW:,} more")
    if report.unresolved_names:
        out.print(f"Names not in data/entities.csv (kept as written, no ISO3): {', '.join(report.unresolved_names)}",
                  markup=False)
    if report.unresolved_descriptions:
        out.print("Descriptions without a weapon category: " + ", ".join(report.unresolved_descriptions), markup=False)
    if report.violations is not None and len(report.violations):
        open_ = report.violations[~report.violations["excepted"]]
        counts = open_.groupby("check").size()
        out.print(f"Sanity checks: {len(open_):,} violation(s) ({int(report.violations['excepted'].sum())} excepted):")
        for check, n in counts.items():
            out.print(f"  {check}: {n:,}")
    if report.exact is not None:
        _print_exact(out, report.exact)
    for t in report.tiv:
        _print_tiv(out, t, db)
    if report.unchanged:
        out.print(f"Already loaded: {db} holds exactly these file(s); nothing was changed.")
    elif report.register_unchanged:
        out.print(f"Register already loaded: {db} holds exactly these register file(s); the register was not changed.")
    elif report.snapshot_id is not None:
        out.print(f"Loaded {report.deals:,} deals and {report.deliveries:,} deliveries as snapshot "
                  f"{report.snapshot_id} into {db}.")
    out.print(f"{ATTRIBUTION}. TIV is SIPRI's trend-indicator value, a volume index, not money.")


def _print_exact(out: Console, e) -> None:
    if e.alone:
        out.print(f"Per-delivery-year register loaded without a plain register: {e.per_year_deals:,} deals built "
                  f"from it, all with SIPRI's exact deliveries per year ({e.deliveries:,} rows).")
        return
    out.print(f"Exact deliveries per year: {e.paired:,} of {e.per_year_deals:,} SIPRI per-year deals matched to "
              f"register deals ({e.same_designation:,} same designation, {e.other_designation:,} spelled otherwise, "
              f"{e.order_year_differs:,} with another order year); {e.unpaired:,} unmatched (quarantined).")
    out.print(f"  {e.paired - e.history_differs:,} deals now use SIPRI's exact figures ({e.deliveries:,} delivery rows); "
              f"{e.history_differs:,} keep the even split because the files disagree on their delivery years or TIV; "
              f"{e.category_changed:,} took SIPRI's category instead of the mapped one.")


def _print_tiv(out: Console, t, db: Path) -> None:
    what = {"exports_by_supplier": "suppliers", "imports_by_recipient": "recipients",
            "exports_by_category": "categories"}[t.table]
    if t.unchanged:
        out.print(f"{t.source}: TIV table {t.table} already loaded; not changed.", markup=False)
    else:
        out.print(f"{t.source}: TIV table {t.table}: {t.cells:,} figures for {t.rows:,} {what} loaded as snapshot "
                  f"{t.snapshot_id} into {db} (the register was not touched).", markup=False)
    if t.unresolved:
        out.print(f"  Names not in data/entities.csv (kept as written, no ISO3): {', '.join(t.unresolved)}",
                  markup=False)
