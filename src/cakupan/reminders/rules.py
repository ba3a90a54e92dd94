"""Pure reminder rules: the forward-only delivery status, back-off, the sending window, the
message text and the experiment assignment. No database, no clock, no I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cakupan.dates import JAKARTA, Month
from cakupan.money import format_rupiah
from cakupan.reminders.policy import ReminderPolicy

__all__ = [
    "MONTH_NAMES_ID",
    "MessageFacts",
    "allowed_before",
    "arm_for",
    "backoff",
    "in_window",
    "mask_phone",
    "next_window_start",
    "render_message",
]

#: For each status, the statuses it may be reached from (queued -> sent -> delivered -> read;
#: failed only before delivery; failed and cancelled are final). A callback that would move a
#: message backwards (a late "sent" after "read") changes nothing.
_FROM: dict[str, tuple[str, ...]] = {
    "sent": ("queued",),
    "delivered": ("queued", "sent"),
    "read": ("queued", "sent", "delivered"),
    "failed": ("queued", "sent"),
    "cancelled": ("queued",),
}


def allowed_before(status: str) -> tuple[str, ...]:
    """The statuses from which a message may move to ``status`` (empty: never)."""
    return _FROM.get(status, ())


def backoff(policy: ReminderPolicy, attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: base * 4^(attempts-1)."""
    return timedelta(seconds=policy.backoff_seconds * 4 ** max(attempts - 1, 0))


def in_window(policy: ReminderPolicy, at: datetime) -> bool:
    """Whether ``at`` is inside the sending hours (Asia/Jakarta), e.g. 08:00 <= t < 20:00."""
    local = at.astimezone(JAKARTA).time()
    return policy.send_from <= local < policy.send_until


def next_window_start(policy: ReminderPolicy, day: date) -> datetime:
    """The first instant messages may go out on ``day`` (e.g. 08:00 WIB)."""
    return datetime.combine(day, policy.send_from, tzinfo=JAKARTA)


def mask_phone(phone: str) -> str:
    """A phone number as it may appear in logs and errors: the last 3 digits only."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return "*" * max(len(digits) - 3, 0) + digits[-3:]


MONTH_NAMES_ID = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def _month_id(month: Month) -> str:
    return f"{MONTH_NAMES_ID[month.month - 1]} {month.year}"


def _day_id(day: date) -> str:
    return f"{day.day} {MONTH_NAMES_ID[day.month - 1]} {day.year}"


def months_text(first: Month, count: int) -> str:
    """``November 2026`` or ``Oktober 2026 - Desember 2026``."""
    if count <= 1:
        return _month_id(first)
    return f"{_month_id(first)} - {_month_id(first + (count - 1))}"


#: How a BPU participant can pay (domain section 2); shown in every reminder.
WAYS_TO_PAY = "aplikasi JMO, BRILink, BNI Agen46, kantor Pos, e-wallet, atau kantor cabang BPJS Ketenagakerjaan"


@dataclass(frozen=True)
class MessageFacts:
    """What a reminder says: its kind, the exact amount and the months it covers, the kode
    penetapan when there is one, the closing date for arrears, and who the participant knows."""

    kind: str
    name: str
    amount: int
    first_month: Month
    months: int
    due_on: date | None = None
    payment_code: str | None = None
    valid_until: date | None = None
    closes_on: date | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    #: ``officer`` (a BPJS Ketenagakerjaan officer who follows the participant up) or ``agent``
    contact_role: str | None = None


def render_message(facts: MessageFacts) -> str:
    """The message in Bahasa Indonesia (the participants' language): exact amount, months,
    kode penetapan, closing date, ways to pay, and the agent or branch officer's name."""
    first_name = facts.name.split()[0] if facts.name.strip() else "Peserta"
    amount = format_rupiah(facts.amount)
    months = months_text(facts.first_month, facts.months)
    if facts.kind == "due_before":
        due = _day_id(facts.due_on) if facts.due_on else "tanggal 15"
        text = (
            f"Halo {first_name}, iuran BPJS Ketenagakerjaan Anda untuk {months} sebesar {amount} "
            f"jatuh tempo {due}."
        )
    elif facts.kind == "unpaid_code":
        until = f" sebelum {_day_id(facts.valid_until)}" if facts.valid_until else ""
        text = (
            f"Halo {first_name}, kode penetapan {facts.payment_code} untuk iuran {months} sebesar "
            f"{amount} belum dibayar. Silakan bayar{until}."
        )
    elif facts.kind == "arrears":
        closes = _day_id(facts.closes_on) if facts.closes_on else ""
        text = (
            f"Halo {first_name}, iuran BPJS Ketenagakerjaan {months} sebesar {amount} belum "
            f"dibayar. Kepesertaan Anda akan ditutup pada {closes} bila belum dibayar."
        )
    else:  # reacquire
        text = (
            f"Halo {first_name}, kepesertaan BPJS Ketenagakerjaan Anda telah ditutup. Anda dapat "
            f"terlindungi lagi mulai {months} dengan iuran {amount} per bulan."
        )
    text += f" Bayar lewat {WAYS_TO_PAY}."
    if facts.contact_name:
        who = {"officer": "petugas BPJS Ketenagakerjaan Anda", "agent": "agen Anda"}.get(
            facts.contact_role or "", ""
        )
        contact = (f"{who}, " if who else "") + facts.contact_name
        contact += f" ({facts.contact_phone})" if facts.contact_phone else ""
        text += f" Pertanyaan? Hubungi {contact}."
    return text + " Balas STOP untuk berhenti menerima pengingat."


def arm_for(
    participant_id: int, experiment_id: int, arms: Sequence[str], holdout_share: float
) -> str:
    """The arm of a participant in an experiment: reproducible (a SHA-256 hash of both ids to a
    uniform number in [0, 1)), ``holdout`` with probability ``holdout_share``, else the arms in
    equal shares."""
    digest = hashlib.sha256(f"{experiment_id}:{participant_id}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < holdout_share:
        return "holdout"
    share = (1.0 - holdout_share) / len(arms)
    index = min(int((u - holdout_share) / share), len(arms) - 1)
    return arms[index]
