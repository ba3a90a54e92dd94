"""The retention workbench's domain rules, as pure functions over plain values.

* :data:`LISTS` and :func:`list_of`: which worklist an episode belongs to on a date (the exact
  definitions of docs/retention.md).
* :data:`OUTCOMES`, :data:`REFUSAL_REASONS`: contact outcomes and refusal reasons as data, with
  their Indonesian and English labels.
* :data:`REASONS` and :func:`reasons_for`: the plain-Indonesian reasons behind a lapse-risk score.
* :func:`whatsapp_message`: the prepared WhatsApp text of a row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from cakupan.dates import Month
from cakupan.i18n import Text, t
from cakupan.registry.rules import ARREARS_MONTHS, VOID_AFTER_MONTHS

#: The four worklists, in the order the workbench shows them.
LISTS: tuple[str, ...] = ("unpaid_registration", "due", "arrears", "closed_recent")
LIST_LABELS: dict[str, Text] = {
    "unpaid_registration": t("Belum bayar iuran pertama", "First month unpaid"),
    "due": t("Jatuh tempo bulan ini", "Due this month"),
    "arrears": t("Menunggak", "In arrears"),
    "closed_recent": t("Baru ditutup (6 bulan)", "Closed in the last 6 months"),
}
#: Months after closing during which a closed participant stays on ``closed_recent`` (D-4).
CLOSED_RECENT_MONTHS = 6
#: Day of the month by which the month's contribution is due (D-1).
DUE_DAY = 15


def list_of(month: Month, start_month: Month, paid_through: Month | None) -> str | None:
    """The worklist of an episode in ``month`` (the month of the as-of date), from its paid-through
    month as of that date, or None when it is on none.

    - ``unpaid_registration``: nothing paid, not yet void (before the first day of start + 3);
    - ``due``: paid through the previous month: this month is due by the 15th (D-1);
    - ``arrears``: paid through M with month - 3 <= M <= month - 2 (one or two whole months
      unpaid and this month too); the membership closes on the first day of M + 4;
    - ``closed_recent``: closed by the system (M + 4 <= month) within the last 6 months
      (month - 5 <= M + 4).
    """
    if paid_through is None:
        if month.index < start_month.index + VOID_AFTER_MONTHS:
            return "unpaid_registration"
        return None
    gap = month.index - paid_through.index
    if gap == 1:
        return "due"
    if 2 <= gap <= ARREARS_MONTHS:
        return "arrears"
    if ARREARS_MONTHS + 1 <= gap <= ARREARS_MONTHS + CLOSED_RECENT_MONTHS:
        return "closed_recent"
    return None


def closes_on(paid_through: Month) -> date:
    """The day the system closes an episode paid through ``paid_through`` (D-3: first of M+4)."""
    return (paid_through + (ARREARS_MONTHS + 1)).first_day


def months_to_pay(
    list_name: str, month: Month, paid_through: Month | None, start_month: Month
) -> list[Month]:
    """The months whose contributions make up a row's amount due: the registration month for an
    unpaid registration (D-2; a kode penetapan's own amount wins when one was issued); this month
    for ``due`` and a re-acquisition (``closed_recent``: a new episode starts this month, D-4);
    every unpaid month up to this one for ``arrears`` (oldest first, D-3)."""
    if list_name == "unpaid_registration":
        return [start_month]
    if list_name == "arrears" and paid_through is not None:
        return [paid_through + k for k in range(1, month.index - paid_through.index + 1)]
    return [month]


@dataclass(frozen=True)
class Outcome:
    code: str
    label: Text
    #: a date is required (the promised payment date)
    needs_date: bool = False
    #: a reason is required
    needs_reason: bool = False


#: Outcomes a caller records (stored in the dashboard's contact log). ``called`` and ``visited``
#: are the dashboard's older, outcome-less codes, still readable.
OUTCOMES: dict[str, Outcome] = {
    o.code: o
    for o in (
        Outcome("no_answer", t("Tidak diangkat", "No answer")),
        Outcome("wrong_number", t("Nomor salah", "Wrong number")),
        Outcome("promised_to_pay", t("Janji bayar", "Promised to pay"), needs_date=True),
        Outcome("refused", t("Menolak", "Refused"), needs_reason=True),
        Outcome("already_paid", t("Sudah bayar", "Already paid")),
        Outcome("call_back", t("Minta dihubungi lagi", "Call back later")),
    )
}
OLD_OUTCOME_LABELS: dict[str, Text] = {
    "called": t("Ditelepon", "Called"),
    "visited": t("Dikunjungi", "Visited"),
}


def outcome_label(code: str) -> Text:
    """The label of any outcome code of the contact log."""
    if code in OUTCOMES:
        return OUTCOMES[code].label
    return OLD_OUTCOME_LABELS.get(code, t(code, code))


#: Refusal reasons offered by the form (a free text is accepted too). *Ngaluk* (004): paying
#: for protection against accidents or death is felt as tempting bad luck.
REFUSAL_REASONS: dict[str, Text] = {
    "ngaluk": t("Ngaluk (takut mendatangkan sial)", "Ngaluk (fear of tempting bad luck)"),
    "cannot_afford": t("Tidak mampu membayar", "Cannot afford it"),
    "no_need": t("Merasa tidak perlu", "Sees no need"),
    "covered_elsewhere": t("Sudah punya jaminan lain", "Covered elsewhere"),
    "not_working": t("Tidak bekerja lagi / pindah", "No longer working / moved"),
    "bad_service": t("Kecewa dengan layanan", "Unhappy with the service"),
}


def follow_up_default(outcome: str, contacted_on: date, promised_on: date | None) -> date | None:
    """The follow-up day when the caller gives none: the promised day for a promise to pay (was
    it paid?), three days later for no answer or a call-back request, none otherwise."""
    if outcome == "promised_to_pay":
        return promised_on
    if outcome in ("no_answer", "call_back"):
        return contacted_on + timedelta(days=3)
    return None


#: Reasons behind a lapse-risk score, in plain Indonesian (English second).
REASONS: dict[str, Text] = {
    "never_paid": t("belum membayar iuran pertama", "has not paid the first month"),
    "code_expired": t("kode penetapan sudah kedaluwarsa", "the kode penetapan has expired"),
    "in_arrears": t("sudah menunggak {n} bulan", "{n} months in arrears"),
    "one_month": t("baru membayar 1 bulan", "has paid only 1 month"),
    "few_months": t("baru membayar {n} bulan", "has paid only {n} months"),
    "late_payer": t("pembayaran terakhir lewat tanggal 15", "the last payment came after the 15th"),
    "never_contacted": t("agen belum pernah menghubungi", "nobody has contacted them yet"),
    "refused_before": t("pernah menolak saat dihubungi", "refused when contacted"),
    "weak_channel": t(
        "terdaftar lewat agen bank (banyak yang berhenti)",
        "registered through a bank agent (many stop)",
    ),
    "weak_partner": t(
        "peserta mitra/agen ini sering berhenti", "this partner's participants often stop"
    ),
    "reacquired": t("pernah berhenti sebelumnya", "stopped paying before"),
    "pays_monthly": t("membayar tiap bulan, bukan beberapa bulan sekaligus", "pays month by month"),
}
#: Registration channels whose participants lapse most (synthetic calibration, docs/retention.md).
WEAK_PAYMENT_PARTNER_RATE = 0.6


def reasons_for(features: Mapping[str, float], *, limit: int = 3) -> list[str]:
    """The reason codes of a participant's features, most important first (at most ``limit``).
    The order is fixed by how strongly each reason raises the risk in the backtests
    (docs/retention.md), not re-derived per participant."""
    out: list[str] = []
    if features.get("never_paid", 0.0) >= 1:
        out.append("never_paid")
        if features.get("code_days_left", 1.0) < 0:
            out.append("code_expired")
    unpaid = int(features.get("months_unpaid", 0.0))
    if unpaid >= 1:
        out.append(f"in_arrears:{unpaid}")
    paid = int(features.get("months_paid", 0.0))
    if paid == 1:
        out.append("one_month")
    elif 2 <= paid <= 3:
        out.append(f"few_months:{paid}")
    if features.get("last_paid_late", 0.0) >= 1:
        out.append("late_payer")
    if features.get("partner_lapse_rate", 0.0) >= WEAK_PAYMENT_PARTNER_RATE:
        out.append("weak_partner")
    if features.get("bank_agent", 0.0) >= 1:
        out.append("weak_channel")
    if features.get("refused", 0.0) >= 1:
        out.append("refused_before")
    if features.get("contacts", 0.0) < 1:
        out.append("never_contacted")
    if features.get("episode_no", 1.0) > 1:
        out.append("reacquired")
    return out[:limit]


def reason_text(code: str) -> Text:
    """The label of a stored reason code (``in_arrears:2`` carries its number)."""
    name, _, number = code.partition(":")
    label = REASONS.get(name)
    if label is None:
        return t(code, code)
    return label.format(n=number) if number else label


def whatsapp_message(name: str, list_name: str, amount: int | None, month: Month) -> str:
    """The prepared Indonesian WhatsApp text of a row (the caller's own phone sends it)."""
    from cakupan.money import format_rupiah

    first = name.split()[0] if name.strip() else "Bapak/Ibu"
    due = f" sebesar {format_rupiah(amount)}" if amount else ""
    if list_name == "unpaid_registration":
        body = (
            f"pendaftaran BPJS Ketenagakerjaan Anda sudah tercatat. Mohon bayar iuran pertama{due}"
            " dengan kode penetapan sebelum kedaluwarsa agar perlindungan JKK dan JKM aktif."
        )
    elif list_name == "closed_recent":
        body = (
            "kepesertaan BPJS Ketenagakerjaan Anda sudah tidak aktif. Anda bisa aktif kembali"
            f" dengan membayar iuran bulan ini{due}."
        )
    elif list_name == "arrears":
        body = (
            f"iuran BPJS Ketenagakerjaan Anda belum terbayar{due}. Mohon dibayar agar"
            " kepesertaan tidak ditutup dan keluarga tetap terlindungi."
        )
    else:
        body = (
            f"iuran BPJS Ketenagakerjaan bulan {month} Anda{due} jatuh tempo tanggal {DUE_DAY}."
            " Terima kasih sudah tetap terlindungi."
        )
    return f"Halo {first}, {body}"


def wa_phone(phone: str) -> str:
    """A phone number as wa.me wants it: digits, Indonesian ``0`` prefix replaced by ``62``."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if digits.startswith("0"):
        return "62" + digits[1:]
    return digits
