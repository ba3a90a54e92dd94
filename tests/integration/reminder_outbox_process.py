"""A reminder outbox worker in its own process (the kill-and-restart test): delivers what is due
at a fixed instant to a fake gateway that records every accepted message in a JSON-lines file.

    python tests/integration/reminder_outbox_process.py DATABASE_URL SENT.jsonl 2027-05-04T09:00+07:00
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from cakupan.dates import FixedClock
from cakupan.db import make_engine
from cakupan.reminders.delivery import deliver_due
from cakupan.reminders.gateway import FakeGateway


def main() -> None:
    url, path, instant = sys.argv[1], Path(sys.argv[2]), datetime.fromisoformat(sys.argv[3])
    engine = make_engine(url)
    result = deliver_due(
        engine, FixedClock(instant), FakeGateway(path=path), budget_seconds=300, rate_per_second=300
    )
    sys.stdout.write(json.dumps(result.as_json()) + "\n")


if __name__ == "__main__":
    main()
