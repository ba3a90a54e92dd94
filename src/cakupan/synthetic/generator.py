"""Pure generator of synthetic BPU data: partners, participants and payments as rows in the shape
of the import files (``cakupan partners|participants|payments import``), so that seeding goes
through exactly the same validation and write path as real data.

Deterministic: the same inputs and seed give the same rows. No database, no clock.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from cakupan.dates import Month
from cakupan.partners.actions import IMPORT_COLUMNS as PARTNER_IMPORT_COLUMNS
from cakupan.registry import imports
from cakupan.registry.occupation_terms import jht_required, sector_for_occupation
from cakupan.synthetic import behaviour as b

#: (income, programs, month, sector, funding) -> contribution of that month in rupiah.
MonthlyAmount = Callable[[int, str, Month, str, str], int]

#: The columns of the files written: the import's contract (required, then optional).
PARTICIPANT_COLUMNS = [*imports.PARTICIPANT_COLUMNS, *imports.PARTICIPANT_OPTIONAL_COLUMNS]
PAYMENT_COLUMNS = [*imports.PAYMENT_COLUMNS, *imports.PAYMENT_OPTIONAL_COLUMNS]
PARTNER_COLUMNS = list(PARTNER_IMPORT_COLUMNS)


@dataclass(frozen=True)
class Place:
    """A village where participants live, with its district and the branch serving it."""

    village_code: str
    district_code: str
    branch_code: str


@dataclass(frozen=True)
class Branch:
    code: str
    region_code: str


@dataclass
class Network:
    """Partners and agents generated per branch, by kind, for attribution."""

    rows: list[dict[str, str]] = field(default_factory=list)
    #: branch -> kind -> list of (partner_code, agent_code) pairs a participant can come through.
    registrars: dict[str, dict[str, list[tuple[str, str]]]] = field(default_factory=dict)


def build_network(branches: Sequence[Branch], start: date, end: date) -> Network:
    """Partners of every kind for each branch (Wadah with Perisai, a corporate agency, BNI Agen46
    and BRILink agents, Pos offices under a Pos regional office, a local government)."""
    network = Network()
    valid_from, valid_to = start.isoformat(), date(end.year + 1, 12, 31).isoformat()

    def add(
        code: str, name: str, kind: str, parent: str, branch: str, scheme: str, rate: str = ""
    ) -> None:
        network.rows.append(
            {
                "code": code,
                "name": name,
                "kind": kind,
                "parent_code": parent,
                "branch_code": branch,
                "scheme": scheme,
                "commission_rate": rate,
                "valid_from": valid_from if scheme else "",
                "valid_to": valid_to if scheme else "",
            }
        )

    pos_regional_done: set[str] = set()
    for branch in branches:
        reg: dict[str, list[tuple[str, str]]] = {kind: [] for kind in b.REGISTRATION_MIX}
        bc = branch.code
        for w in range(1, 3):
            wadah = f"{bc}-WDH{w:02d}"
            add(wadah, f"Wadah Komunitas {bc} {w}", "wadah", "", bc, "komunitas-2024")
            for p in range(1, 7):
                agent = f"{wadah}-P{p:02d}"
                scheme = "perisai-2022" if w == 2 else "komunitas-2024"
                add(agent, f"Perisai {bc} {w}.{p}", "perisai", wadah, bc, scheme)
                reg["perisai"].append((wadah, agent))
        korporasi = f"{bc}-KRP01"
        add(korporasi, f"Keagenan Korporasi {bc}", "korporasi", "", bc, "korporasi-2024", "3")
        reg["korporasi"].append((korporasi, ""))
        for kind, prefix, label, scheme in (
            ("agen46", "A46", "Agen46", "agen46-2024"),
            ("brilink", "BRL", "BRILink", "brilink-2024"),
        ):
            for a in range(1, 7):
                agent = f"{bc}-{prefix}{a:02d}"
                add(agent, f"{label} {bc} {a}", kind, "", bc, scheme)
                reg[kind].append(("", agent))
        pos_regional = f"POS-{branch.region_code}"
        if pos_regional not in pos_regional_done:
            pos_regional_done.add(pos_regional)
            add(
                pos_regional,
                f"Pos Indonesia Regional {branch.region_code}",
                "pos_regional",
                "",
                bc,
                "pos-2024",
            )
        for k in range(1, 3):
            office = f"{bc}-POS{k:02d}"
            add(office, f"Kantor Pos {bc} {k}", "pos_kc", pos_regional, bc, "pos-2024")
            reg["pos_kc"].append((office, ""))
        pemda = f"{bc}-PMD01"
        add(pemda, f"Pemerintah Daerah {bc}", "pemda", "", bc, "")
        reg["pemda"].append((pemda, ""))
        reg["branch"].append(("", ""))
        reg["online"].append(("", ""))
        network.registrars[bc] = reg
    return network


@dataclass
class NamePool:
    """First and last names drawn once from Faker (id_ID): combining them is fast for 1M rows."""

    male: list[str]
    female: list[str]
    last: list[str]

    @classmethod
    def from_faker(cls, seed: int, size: int = 600) -> NamePool:
        from faker import Faker

        fake = Faker("id_ID")
        fake.seed_instance(seed)
        return cls(
            male=sorted({fake.first_name_male() for _ in range(size)}),
            female=sorted({fake.first_name_female() for _ in range(size)}),
            last=sorted({fake.last_name() for _ in range(size)}),
        )


@dataclass
class SyntheticParticipant:
    row: dict[str, str]
    kind: str


class Generator:
    """Generates participants and their payments up to ``as_of`` (inclusive)."""

    def __init__(
        self,
        *,
        seed: int,
        places: Sequence[Place],
        network: Network,
        names: NamePool,
        monthly_amount: MonthlyAmount,
        start: date,
        as_of: date,
    ) -> None:
        if not places:
            raise ValueError("no places to put participants in")
        self.rng = random.Random(seed)
        self.places = list(places)
        self.network = network
        self.names = names
        self.monthly_amount = monthly_amount
        self.start = start
        self.as_of = as_of
        self._niks: set[str] = set()
        self._payment_seq = 0
        self._occupations = list(b.OCCUPATION_MIX)
        self._occupation_weights = list(b.OCCUPATION_MIX.values())
        self._kinds = list(b.REGISTRATION_MIX)
        self._kind_weights = list(b.REGISTRATION_MIX.values())

    # -- participants -------------------------------------------------------------------------

    def _nik(self, district_code: str, birth: date, sex: str) -> str:
        day = birth.day + (40 if sex == "F" else 0)
        prefix = (
            district_code.replace(".", "") + f"{day:02d}{birth.month:02d}{birth.year % 100:02d}"
        )
        while True:
            nik = prefix + f"{self.rng.randint(1, 9999):04d}"
            if nik not in self._niks:
                self._niks.add(nik)
                return nik

    def participant(self) -> SyntheticParticipant:
        rng = self.rng
        place = rng.choice(self.places)
        sex = "F" if rng.random() < 0.42 else "M"
        registered_on = self.start + timedelta(days=rng.randint(0, (self.as_of - self.start).days))
        age_days = int(rng.uniform(18, 62) * 365.25)
        birth = registered_on - timedelta(days=age_days)
        occupation = rng.choices(self._occupations, self._occupation_weights)[0]
        if occupation == "woman_microentrepreneur":
            sex = "F"
        first = rng.choice(self.names.female if sex == "F" else self.names.male)
        name = f"{first} {rng.choice(self.names.last)}"
        income = max(
            b.INCOME_FLOOR,
            round(b.INCOME_MEDIAN * math.exp(rng.gauss(0, b.INCOME_SIGMA)) / 10_000) * 10_000,
        )
        kind = rng.choices(self._kinds, self._kind_weights)[0]
        partner_code, agent_code = rng.choice(self.network.registrars[place.branch_code][kind])
        channel = {"branch": "branch", "online": "online"}.get(
            kind, "agent" if agent_code else "partner"
        )
        funding = "apbd" if kind == "pemda" else ("apbn" if rng.random() < 0.01 else "self")
        row = {
            "nik": self._nik(place.district_code, birth, sex),
            "name": name,
            "phone": f"08{rng.choice('1235789')}{rng.randint(10**8, 10**9 - 1)}",
            "occupation": occupation,
            "reported_income": str(income),
            # the draw is made for everyone (same random stream); owners must have JHT (issue 19)
            "programs": "JKK+JKM+JHT"
            if rng.random() < b.JHT_SHARE or jht_required(occupation)
            else "JKK+JKM",
            "registered_on": registered_on.isoformat(),
            "sex": sex,
            "birth_date": birth.isoformat(),
            "email": "",
            "village_code": place.village_code,
            "district_code": place.district_code,
            "sector": sector_for_occupation(occupation),
            "funding": funding,
            "channel": channel,
            "branch_code": place.branch_code,
            "partner_code": partner_code,
            "agent_code": agent_code,
        }
        return SyntheticParticipant(row=row, kind=kind)

    # -- payments -----------------------------------------------------------------------------

    def _months_to_pay(self, kind: str) -> int | None:
        factor = b.CHANNEL_LAPSE_FACTOR.get(kind, 1.0)
        weights = [
            p.weight * (factor if p.name in {"never_pays", "one_month", "short"} else 1.0)
            for p in b.PAYER_PROFILES
        ]
        profile = self.rng.choices(b.PAYER_PROFILES, weights)[0]
        low, high = profile.months
        return None if high is None else self.rng.randint(low, high)

    def _amount(self, row: dict[str, str], first: Month, count: int) -> int:
        income, programs, sector, funding = (
            int(row["reported_income"]),
            row["programs"],
            row["sector"],
            row["funding"],
        )
        return sum(
            self.monthly_amount(income, programs, first + i, sector, funding) for i in range(count)
        )

    def _payment(
        self, p: SyntheticParticipant, first: Month, count: int, paid_on: date
    ) -> dict[str, str]:
        self._payment_seq += 1
        row = p.row
        channel = self.rng.choice(b.PAYMENT_CHANNEL_BY_KIND.get(p.kind, ("bank",)))
        agent = row["agent_code"] if channel in {"agen46", "brilink", "agent"} else ""
        partner = (
            row["partner_code"]
            if channel in {"pos", "agent", "bank"} and row["partner_code"]
            else ""
        )
        return {
            "reference": f"{channel.upper()}-{self._payment_seq:09d}",
            "nik": row["nik"],
            "amount": str(self._amount(row, first, count)),
            "paid_on": paid_on.isoformat(),
            "channel": channel,
            "partner_code": partner,
            "agent_code": agent,
        }

    def payments(self, p: SyntheticParticipant) -> list[dict[str, str]]:
        """The payments of one participant, in date order, all on or before ``as_of``."""
        rng = self.rng
        registered_on = date.fromisoformat(p.row["registered_on"])
        to_pay = self._months_to_pay(p.kind)
        out: list[dict[str, str]] = []
        # First payment: a few days after registration, before the registration goes void.
        paid_on = registered_on + timedelta(days=int(rng.expovariate(1 / 6)))
        next_month = Month.of(registered_on)
        void_from = (next_month + 3).first_day
        if to_pay == 0 or paid_on >= void_from or paid_on > self.as_of:
            return out
        paid = 0
        last_paid_on = paid_on
        while to_pay is None or paid < to_pay:
            remaining = 12 if to_pay is None else to_pay - paid
            count = 1
            if rng.random() < b.PREPAY_SHARE:
                count = min(rng.choice(b.PREPAY_MONTHS), remaining)
            if paid > 0:
                late = rng.random() < b.LATE_SHARE
                month_paid_in = next_month + (1 if late else 0)
                paid_on = month_paid_in.first_day + timedelta(days=rng.randint(0, 14))
                paid_on = max(paid_on, last_paid_on)
            if paid_on > self.as_of:
                break
            out.append(self._payment(p, next_month, count, paid_on))
            last_paid_on = paid_on
            paid += count
            next_month = next_month + count
        # Re-acquisition (D-4): a lapsed participant pays again after the episode closed.
        last_covered = next_month + -1
        if to_pay is not None and rng.random() < b.REACQUISITION_SHARE:
            gap = rng.randint(*b.REACQUISITION_GAP)
            restart = last_covered + gap
            paid_on = restart.first_day + timedelta(days=rng.randint(0, 20))
            more = rng.randint(1, 6)
            month = Month.of(paid_on)
            for _ in range(more):
                if paid_on > self.as_of:
                    break
                out.append(self._payment(p, month, 1, paid_on))
                month = month + 1
                paid_on = max(paid_on, month.first_day + timedelta(days=rng.randint(0, 14)))
        return out

    def generate(self, participants: int) -> Iterator[tuple[dict[str, str], list[dict[str, str]]]]:
        """``participants`` participants, each with its payments."""
        for _ in range(participants):
            p = self.participant()
            yield p.row, self.payments(p)
