"""What callers hand to the registry's actions, and the pure checks of its shape.

Rows carry raw values (strings from a file, or typed values from the API and the CLI) plus their
row number, so that the CSV imports, the partner API and the single-record commands share one
validation and one vocabulary of errors: ``(field, message)`` per problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from cakupan.dates import parse_date
from cakupan.i18n import Text, t
from cakupan.money import format_rupiah
from cakupan.registry.occupation_terms import jht_required, occupation_terms, sector_for_occupation
from cakupan.registry.rules import (
    DEFAULT_PAYMENT_CHANNEL,
    FUNDINGS,
    MAX_MONTHS_PER_PAYMENT,
    MAX_RUPIAH,
    PROGRAMS,
    REGISTRATION_CHANNELS,
    SECTORS,
    payment_channels,
)
from cakupan.text import clean_text, text_problem

Problems = list[tuple[str, Text]]

NIK_RE = re.compile(r"^\d{16}$")
_AMOUNT_RE = re.compile(r"^\d+$")
_PHONE_RE = re.compile(r"^\+?\d{8,15}$")
_PHONE_STRIP = re.compile(r"[\s().-]")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")
_REFERENCE_RE = re.compile(r"^\S.{0,79}$")


@dataclass(frozen=True)
class PaymentRow:
    """One payment to post (a settlement-file row, an API call, a command)."""

    row: int
    reference: str
    nik: str
    amount: str | int
    paid_on: str | date
    channel: str | None = None
    partner_code: str | None = None
    agent_code: str | None = None


@dataclass(frozen=True)
class ParsedPayment:
    row: int
    reference: str
    nik: str
    amount: int
    paid_on: date
    channel: str
    partner_code: str | None
    agent_code: str | None


@dataclass(frozen=True)
class RegistrationRow:
    """One registration (a participants-file row, an online form, an officer at a branch).

    Empty strings mean "not given". ``months_to_pay`` (1-12) is what the kode penetapan quotes.
    """

    row: int
    nik: str
    name: str
    phone: str
    occupation: str
    reported_income: str | int
    programs: str
    registered_on: str | date | None = None
    sex: str | None = None
    birth_date: str | date | None = None
    email: str | None = None
    village_code: str | None = None
    district_code: str | None = None
    sector: str | None = None
    funding: str | None = None
    channel: str | None = None
    branch_code: str | None = None
    partner_code: str | None = None
    agent_code: str | None = None
    months_to_pay: int | str | None = None


@dataclass(frozen=True)
class ParsedRegistration:
    row: int
    nik: str
    name: str
    phone: str
    occupation: str
    reported_income: int
    programs: str
    registered_on: date | None
    sex: str | None
    birth_date: date | None
    email: str | None
    village_code: str | None
    district_code: str | None
    sector: str
    funding: str
    channel: str
    branch_code: str | None
    partner_code: str | None
    agent_code: str | None
    months_to_pay: int


def blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text_or_none(value: str | None) -> str | None:
    return None if value is None or not value.strip() else value.strip()


def check_nik_shape(nik: str, problems: Problems) -> str:
    """16 digits (the full NIK check, with calendar and districts, is ``registry.nik``)."""
    value = (nik or "").strip()
    if not NIK_RE.match(value):
        problems.append(
            (
                "nik",
                t(
                    "NIK harus 16 digit angka, diterima {v!r}",
                    "NIK must be 16 digits, got {v!r}",
                ).format(v=value),
            )
        )
    return value


#: The one range of every date input (issue 21: 0001-01-01 was read, then failed as a NIK error).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2099, 12, 31)


def parse_day(value: str | date | None, field_name: str, problems: Problems) -> date | None:
    if blank(value):
        return None
    try:
        day = value if isinstance(value, date) else parse_date(str(value))
    except ValueError:
        day = None
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        problems.append(
            (
                field_name,
                t(
                    "tanggal di luar rentang {a} sampai {b}, diterima {v}",
                    "date outside {a} to {b}, got {v}",
                ).format(a=FIRST_DAY.isoformat(), b=LAST_DAY.isoformat(), v=day.isoformat()),
            )
        )
        return None
    if day is not None:
        return day
    problems.append(
        (
            field_name,
            t(
                "diharapkan tanggal YYYY-MM-DD, diterima {v!r}",
                "expected a date as YYYY-MM-DD, got {v!r}",
            ).format(v=value),
        )
    )
    return None


def parse_rupiah(
    value: str | int, field_name: str, problems: Problems, *, positive: bool
) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raw = str(value).strip()
        if not _AMOUNT_RE.match(raw):
            problems.append(
                (
                    field_name,
                    t(
                        "diharapkan bilangan bulat rupiah (hanya angka, mis. 16800), diterima {v!r}",
                        "expected a whole number of rupiah (digits only, e.g. 16800), got {v!r}",
                    ).format(v=raw),
                )
            )
            return None
        # Beyond the range whatever the digits (and never int() of thousands of digits).
        number = int(raw) if len(raw) <= 12 else MAX_RUPIAH * 10 ** (len(raw) - 11)
    if number < 0 or (positive and number == 0) or number > MAX_RUPIAH:
        low = "1" if positive else "0"
        problems.append(
            (
                field_name,
                t(
                    "diharapkan jumlah rupiah {lo} sampai {hi}, diterima {v}",
                    "expected an amount of rupiah from {lo} to {hi}, got {v}",
                ).format(
                    lo=low,
                    hi=format_rupiah(MAX_RUPIAH),
                    v=_shown_number(number) if isinstance(value, int) else str(value).strip()[:24],
                ),
            )
        )
        return None
    return number


def _shown_number(number: int) -> str:
    """A number for a message: whole when short, its first digits and length when huge."""
    text = str(number)
    return text if len(text) <= 20 else f"{text[:12]}... ({len(text)} digits)"


def parse_choice(
    value: str | None, field_name: str, choices: tuple[str, ...], default: str, problems: Problems
) -> str:
    if blank(value):
        return default
    raw = str(value).strip()
    normalised = raw.upper() if field_name == "programs" else raw.lower()
    if field_name == "programs":
        parts = sorted(part for part in re.split(r"[,+\s]+", normalised) if part)
        normalised = {"JKK+JKM": "JKK+JKM", "JHT+JKK+JKM": "JKK+JKM+JHT"}.get("+".join(parts), raw)
    if normalised not in choices:
        problems.append(
            (
                field_name,
                t(
                    "diharapkan salah satu dari {c}, diterima {v!r}",
                    "expected one of {c}, got {v!r}",
                ).format(c=", ".join(choices), v=raw),
            )
        )
        return default
    return normalised


def parse_code(value: str | None, field_name: str, problems: Problems) -> str | None:
    raw = text_or_none(value)
    if raw is None:
        return None
    if not _CODE_RE.match(raw):
        problems.append(
            (
                field_name,
                t(
                    "kode tidak sah (huruf, angka, . _ / -, paling banyak 40), diterima {v!r}",
                    "invalid code (letters, digits, . _ / -, at most 40), got {v!r}",
                ).format(v=raw),
            )
        )
        return None
    return raw


#: The controlled list of payment channels (data, read once).
_GOOD_CHANNELS: frozenset[str] = payment_channels()
_GOOD_CODES: set[str] = set()
_DAYS: dict[str, date] = {}


def _fast_payment(row: PaymentRow) -> ParsedPayment | None:
    """The common case of a settlement file, checked with cheap string tests and caches (dates,
    channels and codes repeat); None sends the row through the full check for its messages."""
    reference, nik, amount, paid_on = row.reference, row.nik, row.amount, row.paid_on
    if not (
        isinstance(reference, str)
        and 0 < len(reference) <= 80
        and not reference[0].isspace()
        and not reference[-1].isspace()
        and reference.isprintable()
        and reference.isascii()
        and isinstance(nik, str)
        and len(nik) == 16
        and nik.isdigit()
        and nik.isascii()
        and isinstance(amount, str)
        and amount.isdigit()
        and amount.isascii()
        and amount[0] != "0"
        and len(amount) <= 10  # up to Rp 9.999.999.999; longer goes to the full check
        and isinstance(paid_on, str)
    ):
        return None
    day = _DAYS.get(paid_on)
    if day is None:
        if len(paid_on) != 10:
            return None
        try:
            day = parse_date(paid_on)
        except ValueError:
            return None
        if len(_DAYS) < 100_000:
            _DAYS[paid_on] = day
    channel = row.channel or DEFAULT_PAYMENT_CHANNEL
    if channel not in _GOOD_CHANNELS:
        return None
    partner = row.partner_code or None
    agent = row.agent_code or None
    for code in (partner, agent):
        if code is not None and code not in _GOOD_CODES:
            if not _CODE_RE.match(code):
                return None
            if len(_GOOD_CODES) < 100_000:
                _GOOD_CODES.add(code)
    return ParsedPayment(row.row, reference, nik, int(amount), day, channel, partner, agent)


#: A payment row as plain values in :class:`PaymentRow`'s field order (row, reference, nik, amount,
#: paid_on, channel, partner_code, agent_code): what the settlement-file import builds straight
#: from the CSV reader, without an object per row.
RawPayment = tuple[
    int, str, str, "str | int", "str | date", "str | None", "str | None", "str | None"
]
#: A checked payment as plain values: (row, reference, nik, amount, paid_on, channel,
#: partner_code, agent_code), typed as in :class:`ParsedPayment`.
PaymentValues = tuple[int, str, str, int, date, str, "str | None", "str | None"]


def raw_payment(row: PaymentRow) -> RawPayment:
    """A :class:`PaymentRow` as plain values."""
    return (
        row.row,
        row.reference,
        row.nik,
        row.amount,
        row.paid_on,
        row.channel,
        row.partner_code,
        row.agent_code,
    )


def payment_values(raw: RawPayment) -> tuple[PaymentValues | None, Problems]:
    """The checks of :func:`parse_payment_row` on plain values: the common case of a settlement
    file (a clean row) by cheap string tests and caches, any other row through the full check
    for its messages."""
    row, reference, nik, amount, paid_on, channel, partner, agent = raw
    day = _DAYS.get(paid_on) if type(paid_on) is str else None
    if (
        day is not None
        and type(reference) is str
        and 0 < len(reference) <= 80
        and not reference[0].isspace()
        and not reference[-1].isspace()
        and reference.isprintable()
        and reference.isascii()
        and type(nik) is str
        and len(nik) == 16
        and nik.isdigit()
        and nik.isascii()
        and type(amount) is str
        and amount.isdigit()
        and amount.isascii()
        and amount[0] != "0"
        and len(amount) <= 10  # up to Rp 9.999.999.999; longer goes to the full check
    ):
        channel = channel or DEFAULT_PAYMENT_CHANNEL
        partner = partner or None
        agent = agent or None
        if (
            channel in _GOOD_CHANNELS
            and (partner is None or partner in _GOOD_CODES)
            and (agent is None or agent in _GOOD_CODES)
        ):
            return (row, reference, nik, int(amount), day, channel, partner, agent), []
    parsed, problems = parse_payment_row(PaymentRow(*raw))
    if parsed is None:
        return None, problems
    return (
        parsed.row,
        parsed.reference,
        parsed.nik,
        parsed.amount,
        parsed.paid_on,
        parsed.channel,
        parsed.partner_code,
        parsed.agent_code,
    ), []


def parse_payment_row(row: PaymentRow) -> tuple[ParsedPayment | None, Problems]:
    """Shape checks of one payment row (no lookups). Returns the typed row or every problem."""
    fast = _fast_payment(row)
    if fast is not None:
        return fast, []
    problems: Problems = []
    reference = clean_text(row.reference or "")
    bad = text_problem(reference, t("referensi", "the reference"))
    if bad is not None:
        problems.append(("reference", bad))
    elif not _REFERENCE_RE.match(reference):
        problems.append(
            (
                "reference",
                t(
                    "referensi wajib diisi (paling banyak 80 karakter), diterima {v!r}",
                    "a reference is required (at most 80 characters), got {v!r}",
                ).format(v=reference),
            )
        )
    nik = check_nik_shape(row.nik, problems)
    amount = parse_rupiah(row.amount, "amount", problems, positive=True)
    paid_on = parse_day(row.paid_on, "paid_on", problems)
    if paid_on is None and not any(field == "paid_on" for field, _ in problems):
        problems.append(("paid_on", t("tanggal bayar wajib diisi", "paid_on is required")))
    channel = (row.channel or "").strip().lower() or DEFAULT_PAYMENT_CHANNEL
    if channel not in payment_channels():
        problems.append(
            (
                "channel",
                t(
                    "kanal pembayaran tidak dikenal: diharapkan salah satu dari {c}, diterima {v!r}",
                    "unknown payment channel: expected one of {c}, got {v!r}",
                ).format(c=", ".join(sorted(payment_channels())), v=row.channel),
            )
        )
    partner = parse_code(row.partner_code, "partner_code", problems)
    agent = parse_code(row.agent_code, "agent_code", problems)
    if problems or amount is None or paid_on is None:
        return None, problems
    return ParsedPayment(row.row, reference, nik, amount, paid_on, channel, partner, agent), []


def parse_registration_row(row: RegistrationRow) -> tuple[ParsedRegistration | None, Problems]:
    """Shape checks of one registration row (no lookups). Returns the typed row or every problem."""
    problems: Problems = []
    nik = (row.nik or "").strip()  # checked in full by ``registry.nik.check_nik``
    bad_name = text_problem(row.name or "", t("nama", "the name"))
    name = " ".join(clean_text(row.name or "").split())
    if bad_name is not None:
        problems.append(("name", bad_name))
    elif not name or len(name) > 200:
        problems.append(
            (
                "name",
                t(
                    "nama wajib diisi (paling banyak 200 karakter), diterima {v!r}",
                    "a name is required (at most 200 characters), got {v!r}",
                ).format(v=row.name),
            )
        )
    phone = _PHONE_STRIP.sub("", row.phone or "")
    if not _PHONE_RE.match(phone):
        problems.append(
            (
                "phone",
                t(
                    "nomor telepon harus 8-15 digit (boleh diawali +), diterima {v!r}",
                    "a phone number must have 8-15 digits (optionally a leading +), got {v!r}",
                ).format(v=row.phone),
            )
        )
    email = text_or_none(row.email)
    if email is not None and (not _EMAIL_RE.match(email) or len(email) > 200):
        problems.append(
            (
                "email",
                t("alamat e-mail tidak sah: {v!r}", "invalid e-mail address: {v!r}").format(
                    v=email
                ),
            )
        )
    occupation = (row.occupation or "").strip().lower()
    if not occupation:
        problems.append(("occupation", t("pekerjaan wajib diisi", "occupation is required")))
    income = parse_rupiah(row.reported_income, "reported_income", problems, positive=False)
    programs = parse_choice(row.programs, "programs", PROGRAMS, "", problems)
    if not programs and not any(field == "programs" for field, _ in problems):
        problems.append(
            (
                "programs",
                t(
                    "program wajib diisi: JKK+JKM atau JKK+JKM+JHT",
                    "programs are required: JKK+JKM or JKK+JKM+JHT",
                ),
            )
        )
    if programs == "JKK+JKM" and jht_required(occupation):
        problems.append(("programs", owner_needs_jht_text(occupation)))
    registered_on = parse_day(row.registered_on, "registered_on", problems)
    sex = None
    if not blank(row.sex):
        sex = str(row.sex).strip().upper()
        sex = {"L": "M", "P": "F"}.get(sex, sex)  # laki-laki / perempuan
        if sex not in ("M", "F"):
            problems.append(
                (
                    "sex",
                    t(
                        "jenis kelamin harus M/L atau F/P, diterima {v!r}",
                        "sex must be M/L or F/P, got {v!r}",
                    ).format(v=row.sex),
                )
            )
    birth_date = parse_day(row.birth_date, "birth_date", problems)
    village = text_or_none(row.village_code)
    district = text_or_none(row.district_code)
    # The sector follows the occupation (PP 50/2025 transport sector) unless given explicitly.
    sector = parse_choice(
        row.sector, "sector", SECTORS, sector_for_occupation(occupation), problems
    )
    funding = parse_choice(row.funding, "funding", FUNDINGS, "self", problems)
    channel = parse_choice(row.channel, "channel", REGISTRATION_CHANNELS, "branch", problems)
    branch = parse_code(row.branch_code, "branch_code", problems)
    partner = parse_code(row.partner_code, "partner_code", problems)
    agent = parse_code(row.agent_code, "agent_code", problems)
    if channel == "agent" and agent is None and blank(row.agent_code):
        problems.append(
            (
                "agent_code",
                t(
                    "pendaftaran lewat agen membutuhkan kode agen",
                    "a registration through an agent needs the agent's code",
                ),
            )
        )
    if channel == "partner" and partner is None and blank(row.partner_code):
        problems.append(
            (
                "partner_code",
                t(
                    "pendaftaran lewat mitra membutuhkan kode mitra",
                    "a registration through a partner needs the partner's code",
                ),
            )
        )
    months = 1
    if not blank(row.months_to_pay):
        raw = str(row.months_to_pay).strip()
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_MONTHS_PER_PAYMENT:
            problems.append(
                (
                    "months_to_pay",
                    t(
                        "jumlah bulan dibayar harus 1-12, diterima {v!r}",
                        "months to pay must be 1-12, got {v!r}",
                    ).format(v=row.months_to_pay),
                )
            )
        else:
            months = int(raw)
    if problems or income is None:
        return None, problems
    return (
        ParsedRegistration(
            row=row.row,
            nik=nik,
            name=name,
            phone=phone,
            occupation=occupation,
            reported_income=income,
            programs=programs,
            registered_on=registered_on,
            sex=sex,
            birth_date=birth_date,
            email=email,
            village_code=village,
            district_code=district,
            sector=sector,
            funding=funding,
            channel=channel,
            branch_code=branch,
            partner_code=partner,
            agent_code=agent,
            months_to_pay=months,
        ),
        [],
    )


def owner_needs_jht_text(occupation: str) -> Text:
    """The refusal of JKK+JKM alone for a business owner, naming the rule's source."""
    return t(
        "pekerjaan {o!r} adalah pemberi kerja/pemilik usaha: JHT wajib ({s}); pilih JKK+JKM+JHT, "
        "diterima JKK+JKM",
        "occupation {o!r} is an employer/business owner: JHT is mandatory ({s}); choose "
        "JKK+JKM+JHT, got JKK+JKM",
    ).format(o=occupation, s=occupation_terms().business_owner_source)


def expected_amounts_text(expected: tuple[int, ...], paid: int) -> Text:
    """``expected Rp 8.400 (1 month), Rp 16.800 (2 months), ...; got Rp 10.000``."""
    id_parts = ", ".join(f"{format_rupiah(a)} ({n} bulan)" for n, a in enumerate(expected, 1))
    en_parts = ", ".join(
        f"{format_rupiah(a)} ({n} month{'s' if n > 1 else ''})" for n, a in enumerate(expected, 1)
    )
    return t(
        f"jumlah harus tepat {id_parts}; diterima {format_rupiah(paid)}",
        f"expected {en_parts}; got {format_rupiah(paid)}",
    )
