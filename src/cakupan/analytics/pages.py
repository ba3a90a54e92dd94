"""``/analytics``: the national report of the latest snapshot, for national roles.

The page runs the report on DuckDB over the snapshot directory the app was given
(``CAKUPAN_ANALYTICS_SNAPSHOT``, default the user data directory's ``analytics/latest``) and keeps
the result in memory until the snapshot changes. The snapshot is national and pseudonymous;
regional, branch and partner roles read their figures on the dashboard instead.
"""

from __future__ import annotations

import json
import threading
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cakupan import figures
from cakupan.analytics.engines import national_report
from cakupan.analytics.report import AGES
from cakupan.analytics.snapshot import MANIFEST, TABLES, open_snapshot
from cakupan.auth import Role
from cakupan.dashboard.rules import month_label
from cakupan.errors import forbidden
from cakupan.i18n import t
from cakupan.money import ratio_percent
from cakupan.web.deps import PageActor, request_lang
from cakupan.web.templating import render

router = APIRouter(include_in_schema=False)

READERS = frozenset({Role.ADMIN, Role.HEAD_OFFICE, Role.AUDITOR})
REGENCY_ROWS = 25

_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[object, ...], dict[str, Any]]] = {}


def _fingerprint(path: Path) -> tuple[object, ...] | None:
    """What changes when a snapshot is taken again: the manifest text and the files' mtimes."""
    manifest = path / MANIFEST
    if not manifest.is_file():
        return None
    stamps = tuple(
        (table.name, (path / f"{table.name}.parquet").stat().st_mtime_ns)
        for table in TABLES
        if (path / f"{table.name}.parquet").is_file()
    )
    return (manifest.read_text(encoding="utf-8"), stamps)


def cached_report(path: Path) -> dict[str, Any] | None:
    """The DuckDB report of the snapshot in ``path`` (verified and computed once per snapshot);
    None when there is no snapshot there."""
    key = _fingerprint(path)
    if key is None:
        return None
    with _lock:
        hit = _cache.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
        report = national_report(open_snapshot(path), engine="duckdb")
        _cache[path] = (key, report)
        return report


def _province_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per province: registrations and contributions over the window, active in its last month,
    retention at 3 and 6 months over the window's cohorts."""
    last = report["last_month"]
    rows: dict[str, dict[str, Any]] = {}
    for row in report["provinces"]:
        entry = rows.setdefault(
            row["province_code"],
            {
                "code": row["province_code"],
                "name": row["province"],
                "registrations": 0,
                "contributions": 0,
                "active": 0,
                "kept": {n: [0, 0] for n in AGES},
            },
        )
        entry["registrations"] += row["new_registrations"]
        entry["contributions"] += row["contributions_collected"]
        if row["month"] == last:
            entry["active"] = row["active_participants"]
    for row in report["province_cohorts"]:
        kept = rows.get(row["province_code"])
        if kept is not None:
            kept["kept"][row["n"]][0] += row["retained"]
            kept["kept"][row["n"]][1] += row["base"]
    for entry in rows.values():
        entry["retention"] = {n: ratio_percent(*entry["kept"][n]) for n in AGES}
    return sorted(rows.values(), key=lambda entry: (-entry["active"], entry["code"]))


@router.get("/analytics")
def national_page(request: Request, actor: PageActor) -> Response:
    """Months, provinces, cohort retention and the regencies with the most participants."""
    if actor.role not in READERS:
        raise forbidden(
            t(
                "Analitik nasional hanya untuk peran nasional (admin, kantor pusat, auditor)",
                "National analytics are for national roles only (admin, head office, auditor)",
            )
        )
    path: Path = request.app.state.analytics_snapshot
    report = cached_report(path)
    lang = request_lang(request)
    # No server path on the page: a user cannot act on it (the logs and the CLI name it).
    context: dict[str, Any] = {"report": report, "ages": AGES}
    if report is not None:
        provinces = _province_rows(report)
        cohorts = _cohort_grid(report, lang)
        context["chart_json"] = json.dumps(
            {
                "locale": "en-GB" if lang == "en" else "id-ID",
                "names": {
                    "active": figures.label("active_participants", lang),
                    "age": "month of age" if lang == "en" else "bulan ke-",
                },
                "provinces": [
                    {"name": p["name"] or p["code"], "active": p["active"]} for p in provinces
                ],
                "ages": list(AGES),
                "cohorts": [
                    {"name": c["label"], "percent": [c["percent"].get(n) for n in AGES]}
                    for c in cohorts
                ],
            }
        ).replace("</", "<\\/")
        context.update(
            months=[
                {**row, "label": month_label(row["month"], lang)} for row in report["national"]
            ],
            provinces=provinces,
            regencies=sorted(
                report["regencies"], key=lambda row: (-row["registered"], row["regency_code"])
            )[:REGENCY_ROWS],
            cohorts=cohorts,
            last_label=month_label(report["last_month"], lang),
            as_of=date.fromisoformat(report["snapshot"]["as_of"]),
        )
    return render(request, "analytics_national.html", context)


def _cohort_grid(report: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    grid: dict[str, dict[str, Any]] = {}
    for row in report["cohorts"]:
        entry = grid.setdefault(
            row["cohort"], {"label": month_label(row["cohort"], lang), "base": 0, "percent": {}}
        )
        entry["base"] = max(entry["base"], row["base"])
        entry["percent"][row["n"]] = row["percent"]
    return [grid[key] for key in sorted(grid)]
