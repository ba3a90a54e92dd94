"""National analytics on a columnar snapshot of the ledger: DuckDB embedded, Spark to scale out.

See docs/analytics.md. ``take_snapshot`` writes pseudonymous Parquet files from the operational
database; ``national_report`` runs the same SQL on DuckDB or Spark over them.
"""

from cakupan.analytics.engines import ENGINES, EngineName, national_report
from cakupan.analytics.report import Window
from cakupan.analytics.snapshot import Snapshot, open_snapshot, take_snapshot

__all__ = [
    "ENGINES",
    "EngineName",
    "Snapshot",
    "Window",
    "national_report",
    "open_snapshot",
    "take_snapshot",
]
