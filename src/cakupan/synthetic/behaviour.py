"""The calibration of synthetic BPU behaviour: who registers where, through whom, and how long they
keep paying. Every number here is a modelling assumption drawn from the seeds (see
docs/synthetic-data.md), not a regulation, so it lives with the generator, not in dated data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PayerProfile:
    """How long a kind of participant keeps paying once registered."""

    name: str
    weight: float
    #: Months paid in the first episode: (min, max) inclusive; None max = until the horizon.
    months: tuple[int, int | None]


#: Seeds 003/004: many informal workers stop after 1-3 months; a minority pays for years.
#: Seed 002 (Madiun): active BPU fell from 17,039 (2016) to 6,170 (2017): roughly two in three
#: stop within a year.
PAYER_PROFILES: tuple[PayerProfile, ...] = (
    PayerProfile("never_pays", 0.10, (0, 0)),
    PayerProfile("one_month", 0.30, (1, 1)),
    PayerProfile("short", 0.22, (2, 3)),
    PayerProfile("medium", 0.16, (4, 11)),
    PayerProfile("loyal", 0.22, (12, None)),
)

#: Volume-driven channels buy registrations that lapse (003): weight shifts towards short payers.
#: Multiplier applied to the weight of `never_pays`, `one_month` and `short` per registering kind.
CHANNEL_LAPSE_FACTOR: dict[str, float] = {
    "branch": 0.9,
    "online": 1.0,
    "wadah": 0.8,
    "perisai": 0.85,
    "korporasi": 0.95,
    "agen46": 1.35,
    "brilink": 1.3,
    "pos_kc": 1.1,
    "pemda": 0.5,
}

#: Share of lapsed (closed) participants who pay again after a gap (D-4 re-acquisition).
REACQUISITION_SHARE = 0.12
#: Gap between the last paid month and the re-acquiring payment, in months (>= 4: closed).
REACQUISITION_GAP = (4, 9)

#: Share of payments that prepay several months at once, and how many.
PREPAY_SHARE = 0.08
PREPAY_MONTHS = (3, 6, 12)

#: Share of monthly payers who pay a month late (in the next month: arrears, oldest first).
LATE_SHARE = 0.12

#: Registration channel mix (the registering party's kind; "branch" and "online" have no partner).
REGISTRATION_MIX: dict[str, float] = {
    "branch": 0.16,
    "online": 0.14,
    "perisai": 0.22,
    "korporasi": 0.08,
    "agen46": 0.14,
    "brilink": 0.16,
    "pos_kc": 0.06,
    "pemda": 0.04,
}

#: Programs: share of participants who add JHT to JKK+JKM.
JHT_SHARE = 0.38

#: Reported monthly income: log-normal around this median, clipped to a floor.
INCOME_MEDIAN = 2_300_000
INCOME_SIGMA = 0.55
INCOME_FLOOR = 500_000

#: Occupations (codes of the registry's controlled list) and their weights.
OCCUPATION_MIX: dict[str, float] = {
    "farmer": 0.16,
    "plantation_worker": 0.06,
    "fisher": 0.07,
    "market_trader": 0.13,
    "street_vendor": 0.08,
    "porter": 0.03,
    "online_driver": 0.11,
    "marbot": 0.02,
    "umkm": 0.12,
    "platform_worker": 0.04,
    "woman_microentrepreneur": 0.06,
    "daily_labourer": 0.10,
    "other": 0.02,
}

#: Payment channel used by participants who registered through each kind.
PAYMENT_CHANNEL_BY_KIND: dict[str, tuple[str, ...]] = {
    "branch": ("branch", "bank", "ewallet"),
    "online": ("online", "ewallet", "bank"),
    "perisai": ("agent", "ewallet"),
    "wadah": ("agent", "bank"),
    "korporasi": ("bank",),
    "agen46": ("agen46",),
    "brilink": ("brilink",),
    "pos_kc": ("pos",),
    "pemda": ("bank",),
}
