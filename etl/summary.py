"""What a load tells the user: read, repaired, quarantined (with reasons), unresolved."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from etl.load import ATTRIBUTION, LoadReport

SHOW = 10


def print_load_report(out: Console, report: LoadReport, db: Path) -> None:
    for f in report.files:
        out.print(f"{f.source}: {f.records:,} records read: {f.deals:,} deals, {f.repaired:,} repaired, "
                  f"{f.quarantined:,} quarantined (encoding {f.encoding}; SIPRI data generated "
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
    if report.unchanged:
        out.print(f"Already loaded: {db} holds exactly these file(s); nothing was changed.")
    else:
        out.print(f"Loaded {report.deals:,} deals and {report.deliveries:,} deliveries as snapshot "
                  f"{report.snapshot_id} into {db}.")
    out.print(f"{ATTRIBUTION}. TIV is SIPRI's trend-indicator value, a volume index, not money.")
