"""A reminder outbox worker killed mid-batch and restarted loses and duplicates nothing (a real
process, SIGKILL, on SQLite and PostgreSQL): every queued reminder ends sent, and the gateway
accepted each exactly once (a message sent but not recorded before the kill is sent again under
the same reference, which the provider answers with the message it already has)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path

from sqlalchemy import Engine, func, select

from cakupan.auth import Actor
from cakupan.dates import JAKARTA, FixedClock
from cakupan.db import transaction
from cakupan.registry import RegistrationRow, register_participants
from cakupan.reminders import actions
from cakupan.reminders.models import Reminder

ACTOR = Actor.system("test-crash")
COUNT = 1500
SCRIPT = Path(__file__).with_name("reminder_outbox_process.py")


def _lines(path: Path) -> list[dict[str, str]]:
    """The complete lines the fake gateway has written so far: the worker may be in the middle of
    writing the last one while the test reads (a line counts once its newline is written)."""
    if not path.is_file():
        return []
    text = path.read_text("utf-8")
    complete = text[: text.rfind("\n") + 1]  # up to the last newline written ("" before any)
    return [json.loads(line) for line in complete.splitlines() if line.strip()]


def test_killed_worker_loses_and_duplicates_nothing(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    clock = FixedClock(datetime(2027, 5, 3, 9, 0, tzinfo=JAKARTA))
    rows = [
        RegistrationRow(
            row=i,
            nik=f"167101010190{i:04d}",
            name=f"Peserta {i}",
            phone=f"0813{i:08d}",
            occupation="farmer",
            reported_income=1_000_000,
            programs="JKK+JKM",
            registered_on=date(2027, 5, 3),
            district_code="16.71.01",
        )
        for i in range(1, COUNT + 1)
    ]
    with transaction(engine) as session:
        assert (
            register_participants(session, ACTOR, rows, clock=clock, issue_codes=True).rejected == 0
        )
    with transaction(engine) as session:
        counts = actions.queue_reminders(session, ACTOR, clock, date(2027, 5, 4))
    assert counts["unpaid_code"] == COUNT
    sent_file = tmp_path / "sent.jsonl"
    instant = datetime.combine(date(2027, 5, 4), clock_time(9), tzinfo=JAKARTA).isoformat()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    argv = [sys.executable, str(SCRIPT), database_url, str(sent_file), instant]

    worker = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(_lines(sent_file)) < 300 and time.monotonic() < deadline:  # past the first batch
        assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
        time.sleep(0.02)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    accepted_before = len(_lines(sent_file))
    with transaction(engine) as session:
        recorded = session.scalar(select(func.count()).where(Reminder.status == "sent"))
    assert 0 < accepted_before < COUNT
    assert recorded is not None
    assert recorded < accepted_before  # some sends were accepted but never recorded

    finished = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert finished.returncode == 0, finished.stderr
    lines = _lines(sent_file)
    references = [line["reference"] for line in lines]
    with transaction(engine) as session:
        ids = session.scalars(select(Reminder.id).where(Reminder.status == "sent")).all()
        statuses = session.execute(
            select(Reminder.status, func.count()).group_by(Reminder.status)
        ).all()
    assert dict(statuses) == {"sent": COUNT}
    assert len(references) == len(set(references)) == COUNT  # each accepted once
    assert sorted(references) == sorted(str(i) for i in ids)
    assert all(line["provider_id"] == f"fake-{line['reference']}" for line in lines)
