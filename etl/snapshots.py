"""`armsdash snapshots`: what the database holds, so users can name a release for `diff`."""

from __future__ import annotations

from pathlib import Path

from etl import db as store


def snapshot_lines(db: Path) -> list[str]:
    """One line per snapshot, newest last; current ones marked."""
    con = store.reader(db)
    try:
        has_tiv = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'tiv'").fetchone()[0] > 0
        current_tiv = "OR s.snapshot_id IN (SELECT max(snapshot_id) FROM tiv GROUP BY table_name)" if has_tiv else ""
        rows = con.execute(f"""
            SELECT s.snapshot_id, s.kind, strftime(s.created_at, '%Y-%m-%d %H:%M'), s.deals,
                   string_agg(src.source || coalesce(' (data generated ' || strftime(src.generated_date, '%Y-%m-%d')
                              || ')', ''), ', ' ORDER BY src.source),
                   s.snapshot_id = (SELECT snapshot_id FROM current_snapshot) {current_tiv}
            FROM snapshots s LEFT JOIN sources src USING (snapshot_id)
            GROUP BY ALL ORDER BY s.snapshot_id""").fetchall()
    finally:
        con.close()
    if not rows:
        return [f"{db}: no snapshot yet; run 'armsdash load FILE' or 'armsdash fetch'"]
    lines = []
    for snapshot, kind, created, deals, sources, current in rows:
        what = f"{deals:,} deals" if kind == "register" else "TIV table"
        lines.append(f"snapshot:{snapshot}  {kind:<9}  loaded {created} UTC  {what}  {sources or ''}"
                     f"{'  [current]' if current else ''}")
    return lines
