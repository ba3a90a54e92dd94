"""Pure rules of finding people (domain.md section 6): normalised contact keys for deduplication,
the segment rule language, prospect stages, the targeting score and funnel costs.

No database, no clock, no I/O: everything here is a function of plain values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from cakupan.i18n import Text, t
from cakupan.money import round_half_up

__all__ = [
    "CAMPAIGN_STATUSES",
    "CAMPAIGN_TYPES",
    "CONTACT_OUTCOMES",
    "FUNNEL_STAGES",
    "LABELS",
    "MEDIA",
    "REFUSAL_REASONS",
    "SEGMENT_FIELDS",
    "AttributionRule",
    "Condition",
    "FactorWeights",
    "ProspectStage",
    "SegmentRule",
    "TargetingInput",
    "TargetingScore",
    "area_level",
    "campaign_status",
    "cost_per",
    "name_key",
    "parse_segment_rule",
    "phone_key",
    "prospect_stage",
    "score_targets",
    "stored_phone_forms",
]

# -- controlled lists ------------------------------------------------------------------------------

#: Campaign types (issue 8, domain.md section 6: the promotion mix).
CAMPAIGN_TYPES = (
    "sosialisasi_offline",
    "sosialisasi_online",
    "event",
    "bazaar_expo",
    "advertising",
    "direct_marketing",
    "sales_promotion",
    "co_marketing_discount",
    "community_leader_engagement",
)
#: Where a campaign is on a day: not started, between its first and last day, or over.
CAMPAIGN_STATUSES = ("planned", "running", "finished")


def campaign_status(start_on: date, end_on: date, day: date) -> str:
    """``planned`` before ``start_on``, ``running`` from ``start_on`` to ``end_on`` inclusive,
    ``finished`` after ``end_on``."""
    if day < start_on:
        return "planned"
    return "running" if day <= end_on else "finished"


#: Advertising media (required for ``advertising``, optional otherwise).
MEDIA = ("print", "tv", "radio", "online", "billboard", "social_media", "other")

#: Why a prospect refused (004): a controlled list.
REFUSAL_REASONS = (
    "not_aware",
    "thinks_irrelevant",
    "cannot_afford",
    "distrust",
    "bad_luck_belief",  # "ngaluk": insurance tempts bad luck
    "covered_elsewhere",
    "other",
)
#: What one contact attempt produced.
CONTACT_OUTCOMES = ("unreachable", "contacted", "interested", "refused")

#: What people read for the controlled lists (pages, worklists).
LABELS: dict[str, Text] = {
    "unreachable": t("Tidak tersambung", "Unreachable"),
    "contacted": t("Terhubung", "Contacted"),
    "interested": t("Tertarik", "Interested"),
    "refused": t("Menolak", "Refused"),
    "not_aware": t("Belum tahu programnya", "Not aware of the programme"),
    "thinks_irrelevant": t("Merasa tidak perlu", "Thinks it irrelevant"),
    "cannot_afford": t("Tidak mampu membayar", "Cannot afford it"),
    "distrust": t("Tidak percaya", "Distrust"),
    "bad_luck_belief": t("Takut sial (ngaluk)", "Bad-luck belief (ngaluk)"),
    "covered_elsewhere": t("Sudah punya jaminan lain", "Covered elsewhere"),
    "other": t("Lainnya", "Other"),
    "phone": t("Telepon", "Phone"),
    "whatsapp": t("WhatsApp", "WhatsApp"),
    "visit": t("Kunjungan", "Visit"),
    "event": t("Acara", "Event"),
    "prospect": t("Prospek", "Prospect"),
    "registered": t("Terdaftar", "Registered"),
    "paid_month_1": t("Bayar bulan 1", "Paid month 1"),
    "retained_month_3": t("Bertahan bulan 3", "Retained month 3"),
    "retained_month_6": t("Bertahan bulan 6", "Retained month 6"),
}


class ProspectStage(StrEnum):
    """Conversion stages of a prospect, in order; each implies the ones before it."""

    PROSPECT = "prospect"
    CONTACTED = "contacted"
    INTERESTED = "interested"
    REGISTERED = "registered"
    PAID_MONTH_1 = "paid_month_1"
    RETAINED_MONTH_3 = "retained_month_3"
    RETAINED_MONTH_6 = "retained_month_6"


PROSPECT_STAGES = tuple(ProspectStage)

#: AIDA funnel of a campaign, in order.
FUNNEL_STAGES = (
    "reached",
    "interested",
    "registered",
    "paid_month_1",
    "retained_month_3",
    "retained_month_6",
)


class AttributionRule(StrEnum):
    """How a registration was attributed to a campaign; the lower the number, the stronger."""

    CODE = "campaign_code"  # 1: the campaign code given at registration or payment
    PROSPECT_LIST = "prospect_list"  # 2: the NIK was on a prospect list of the campaign
    WINDOW = "time_area_window"  # 3: registered in the campaign's areas within its window

    @property
    def precedence(self) -> int:
        return {"campaign_code": 1, "prospect_list": 2, "time_area_window": 3}[self.value]


# -- contact keys ----------------------------------------------------------------------------------

_NON_DIGITS = re.compile(r"\D")
_SPACES = re.compile(r"\s+")
_NAME_PUNCT = re.compile(r"[.,'`\"()\-_/]")
#: Honorifics and titles dropped from names before comparing (Indonesian forms of address,
#: religious and academic titles). A word only counts as a title before the first name word.
_TITLES = frozenset(
    {
        "bapak",
        "bpk",
        "pak",
        "ibu",
        "bu",
        "sdr",
        "sdri",
        "saudara",
        "saudari",
        "tn",
        "ny",
        "nn",
        "mr",
        "mrs",
        "ms",
        "haji",
        "hajjah",
        "hj",
        "h",
        "kh",
        "ust",
        "ustadz",
        "ustaz",
        "dr",
        "drs",
        "dra",
        "ir",
        "prof",
        "mas",
        "mbak",
        "bang",
        "kak",
        "cik",
        "teuku",
        "tgk",
    }
)
#: Academic degrees written after the name ("Budi, S.Pd.").
_DEGREE = re.compile(r",\s*[A-Za-z]{1,4}\.(\s*[A-Za-z]{1,4}\.?)*\s*$")


def phone_key(phone: str | None) -> str | None:
    """A phone number in one comparable form, ``62`` followed by the subscriber number:
    ``+62 812-3456-7890``, ``0812 3456 7890``, ``62812...`` and ``812...`` give the same key.
    ``None`` when there are fewer than 8 digits."""
    if not phone:
        return None
    digits = _NON_DIGITS.sub("", phone)
    if digits.startswith("62"):
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = digits[1:]
    digits = digits.lstrip("0")
    if len(digits) < 8:
        return None
    return "62" + digits


def stored_phone_forms(key: str) -> list[str]:
    """The ways the registry may have stored a phone whose :func:`rules.phone_key` is ``key``
    (digits with an optional leading ``+``: ``0812...``, ``62812...``, ``+62812...``,
    ``620812...``, ``+620812...``, ``812...``), so that matching is a plain ``IN`` on the stored
    column instead of a computed expression on every participant."""
    local = key[2:]
    return ["0" + local, "62" + local, "+62" + local, "620" + local, "+620" + local, local]


def name_key(name: str | None) -> str | None:
    """A name in one comparable form: accents removed, lower case, punctuation and repeated
    spaces removed, leading titles (``Bapak``, ``Hj.``, ``Dr.``) and trailing degrees (``, S.Pd.``)
    dropped. ``None`` for an empty name."""
    if not name:
        return None
    text = _DEGREE.sub("", name.strip())
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    words = _SPACES.sub(" ", _NAME_PUNCT.sub(" ", text)).strip().split(" ")
    while len(words) > 1 and words[0] in _TITLES:
        words.pop(0)
    key = " ".join(word for word in words if word)
    return key or None


# -- areas -----------------------------------------------------------------------------------------

_AREA_LEVELS = {2: "province", 5: "regency", 8: "district", 13: "village"}
_AREA_RE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")


def area_level(code: str) -> str | None:
    """``province``/``regency``/``district``/``village`` for a dotted Kemendagri code
    (``18``, ``18.71``, ``18.71.01``, ``18.71.01.1001``); ``None`` when it is not one."""
    if not _AREA_RE.match(code):
        return None
    return _AREA_LEVELS.get(len(code))


# -- segment rules ---------------------------------------------------------------------------------

#: Fields a segment rule may test, with the operators each accepts and the value type.
SEGMENT_FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "occupation": (("in", "not_in"), "codes"),
    "occupation_group": (("in", "not_in"), "codes"),
    "sex": (("in",), "codes"),
    "age": (("between",), "int_range"),
    "reported_income": (("between",), "int_range"),
    "area": (("in", "not_in"), "areas"),
    "channel": (("in", "not_in"), "codes"),
}


@dataclass(frozen=True)
class Condition:
    """One test: ``field op value``. Ranges are inclusive ``[low, high]``; ``None`` is open."""

    field: str
    op: str
    values: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None

    def as_json(self) -> dict[str, Any]:
        if self.op == "between":
            return {"field": self.field, "op": self.op, "value": [self.low, self.high]}
        return {"field": self.field, "op": self.op, "value": list(self.values)}


@dataclass(frozen=True)
class SegmentRule:
    """Conditions combined: every condition of ``all`` holds, and (when ``any`` is not empty) at
    least one condition of ``any`` holds."""

    all: tuple[Condition, ...] = ()
    any: tuple[Condition, ...] = ()

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"all": [c.as_json() for c in self.all]}
        if self.any:
            out["any"] = [c.as_json() for c in self.any]
        return out

    def areas(self) -> tuple[str, ...]:
        """The area codes of the ``all`` conditions that include areas (the segment's geography)."""
        return tuple(
            code for c in self.all if c.field == "area" and c.op == "in" for code in c.values
        )


def parse_segment_rule(value: Any) -> tuple[SegmentRule | None, list[tuple[str, Text]]]:
    """Check a segment rule given as JSON data (no code is ever evaluated):
    ``{"all": [{"field": "occupation_group", "op": "in", "value": ["agriculture"]},
    {"field": "age", "op": "between", "value": [18, 40]}], "any": [...]}``.
    Returns the rule, or ``None`` and every ``(path, message)`` problem found."""
    problems: list[tuple[str, Text]] = []
    if not isinstance(value, Mapping):
        return None, [("rule", t("aturan harus objek JSON", "the rule must be a JSON object"))]
    unknown = sorted(set(value) - {"all", "any"})
    if unknown:
        problems.append(
            (
                "rule",
                t(
                    "kunci tidak dikenal {k}; yang diharapkan: all, any",
                    "unknown keys {k}; expected: all, any",
                ).format(k=", ".join(unknown)),
            )
        )
    groups: dict[str, list[Condition]] = {"all": [], "any": []}
    for group in ("all", "any"):
        items = value.get(group, [])
        if not isinstance(items, list):
            problems.append(
                (f"rule.{group}", t("harus daftar kondisi", "must be a list of conditions"))
            )
            continue
        for i, item in enumerate(items):
            condition = _condition(f"rule.{group}[{i}]", item, problems)
            if condition is not None:
                groups[group].append(condition)
    given = sum(len(value.get(g, [])) for g in ("all", "any") if isinstance(value.get(g), list))
    if not given:
        problems.append(
            ("rule", t("aturan tanpa kondisi", "the rule has no conditions (all / any)"))
        )
    if problems:
        return None, problems
    return SegmentRule(all=tuple(groups["all"]), any=tuple(groups["any"])), []


def _condition(path: str, item: Any, problems: list[tuple[str, Text]]) -> Condition | None:
    if not isinstance(item, Mapping) or set(item) != {"field", "op", "value"}:
        problems.append(
            (
                path,
                t(
                    "kondisi harus {{field, op, value}}, diterima {v!r}",
                    "a condition must be {{field, op, value}}, got {v!r}",
                ).format(v=item),
            )
        )
        return None
    field_name, op, raw = item["field"], item["op"], item["value"]
    if field_name not in SEGMENT_FIELDS:
        problems.append(
            (
                f"{path}.field",
                t(
                    "kolom {f!r} tidak dikenal; pilihan: {c}", "unknown field {f!r}; one of {c}"
                ).format(f=field_name, c=", ".join(SEGMENT_FIELDS)),
            )
        )
        return None
    ops, kind = SEGMENT_FIELDS[field_name]
    if op not in ops:
        problems.append(
            (
                f"{path}.op",
                t(
                    "operator {o!r} tidak berlaku untuk {f}; pilihan: {c}",
                    "operator {o!r} does not apply to {f}; one of {c}",
                ).format(o=op, f=field_name, c=", ".join(ops)),
            )
        )
        return None
    if kind == "int_range":
        ok = (
            isinstance(raw, list)
            and len(raw) == 2
            and all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in raw)
            and any(v is not None for v in raw)
            and (raw[0] is None or raw[1] is None or raw[0] <= raw[1])
        )
        if not ok:
            problems.append(
                (
                    f"{path}.value",
                    t(
                        "harus [bawah, atas] bilangan bulat (null = terbuka), diterima {v!r}",
                        "expected [low, high] integers (null = open), got {v!r}",
                    ).format(v=raw),
                )
            )
            return None
        return Condition(field_name, op, low=raw[0], high=raw[1])
    if not isinstance(raw, list) or not raw or not all(isinstance(v, str) and v for v in raw):
        problems.append(
            (
                f"{path}.value",
                t(
                    "harus daftar kode yang tidak kosong, diterima {v!r}",
                    "expected a non-empty list of codes, got {v!r}",
                ).format(v=raw),
            )
        )
        return None
    if kind == "areas":
        bad = [v for v in raw if area_level(v) is None]
        if bad:
            problems.append(
                (
                    f"{path}.value",
                    t(
                        "kode wilayah tidak sah {v}; format PP, PP.RR, PP.RR.DD atau PP.RR.DD.VVVV",
                        "invalid area codes {v}; expected PP, PP.RR, PP.RR.DD or PP.RR.DD.VVVV",
                    ).format(v=", ".join(bad)),
                )
            )
            return None
    if field_name == "sex" and not set(raw) <= {"M", "F"}:
        problems.append(
            (
                f"{path}.value",
                t("jenis kelamin M atau F", "sex must be M or F, got {v!r}").format(v=raw),
            )
        )
        return None
    return Condition(field_name, op, values=tuple(raw))


# -- prospects -------------------------------------------------------------------------------------


def prospect_stage(
    outcomes: Sequence[str],
    *,
    registered: bool,
    months_paid_in_episode: int,
) -> ProspectStage:
    """The furthest stage a prospect reached. Contacts give ``contacted`` (someone answered:
    any outcome but ``unreachable``) and ``interested``; the ledger gives the rest, counted by
    the consecutive months paid from the start of the registration's episode (1, 3, 6). A later
    stage implies the earlier ones (a prospect who registered on their own counts as contacted
    and interested)."""
    if registered:
        if months_paid_in_episode >= 6:
            return ProspectStage.RETAINED_MONTH_6
        if months_paid_in_episode >= 3:
            return ProspectStage.RETAINED_MONTH_3
        if months_paid_in_episode >= 1:
            return ProspectStage.PAID_MONTH_1
        return ProspectStage.REGISTERED
    if "interested" in outcomes:
        return ProspectStage.INTERESTED
    if any(outcome != "unreachable" for outcome in outcomes):
        return ProspectStage.CONTACTED
    return ProspectStage.PROSPECT


# -- costs -----------------------------------------------------------------------------------------


def cost_per(cost: int, count: int) -> int | None:
    """Rupiah per unit, rounded half up; ``None`` when nothing was counted."""
    if count <= 0:
        return None
    return round_half_up(Fraction(cost, count))


# -- targeting -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactorWeights:
    """Weights of the targeting factors (data: ``data/targeting_weights.json`` or a user's file).
    ``partner_saturation`` is how many partners make presence count fully."""

    gap: Decimal
    conversion: Decimal
    retention: Decimal
    partner_presence: Decimal
    partner_saturation: int
    source: str
    version: str

    def as_json(self) -> dict[str, Any]:
        return {
            "gap": str(self.gap),
            "conversion": str(self.conversion),
            "retention": str(self.retention),
            "partner_presence": str(self.partner_presence),
            "partner_saturation": self.partner_saturation,
            "source": self.source,
            "version": self.version,
        }


@dataclass(frozen=True)
class TargetingInput:
    """What the score reads for one segment x area."""

    segment: str
    area: str
    gap: int
    conversion: Fraction | None  # registered / reached of past campaigns in the segment
    retention: Fraction | None  # retained at month 6 / registered of those campaigns
    partners: int  # active partners serving the area


@dataclass(frozen=True)
class TargetingScore:
    segment: str
    area: str
    score: Decimal
    contributions: dict[str, Decimal]
    factors: dict[str, Decimal]
    gap: int
    partners: int

    def as_json(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "area": self.area,
            "score": str(self.score),
            "gap": self.gap,
            "partners": self.partners,
            "factors": {k: str(v) for k, v in self.factors.items()},
            "contributions": {k: str(v) for k, v in self.contributions.items()},
        }


_PLACES = Decimal("0.0001")


def score_targets(inputs: Sequence[TargetingInput], weights: FactorWeights) -> list[TargetingScore]:
    """Rank segment x area pairs. Each factor is scaled to 0..1 (the gap against the largest gap
    of the candidates; conversion and retention as the rates themselves, 0 when a segment has no
    campaign history; partners against ``partner_saturation``), its contribution is
    ``weight x factor`` rounded to 4 places, and the score is the sum of the contributions, so the
    contributions always add up to the score. Ties rank by segment then area code: the same
    inputs always give the same ranking."""
    largest_gap = max((max(i.gap, 0) for i in inputs), default=0)
    scored: list[TargetingScore] = []
    for item in inputs:
        factors = {
            "gap": _ratio(max(item.gap, 0), largest_gap),
            "conversion": _fraction(item.conversion),
            "retention": _fraction(item.retention),
            "partner_presence": _ratio(
                min(item.partners, weights.partner_saturation), weights.partner_saturation
            ),
        }
        contributions = {
            "gap": (weights.gap * factors["gap"]).quantize(_PLACES),
            "conversion": (weights.conversion * factors["conversion"]).quantize(_PLACES),
            "retention": (weights.retention * factors["retention"]).quantize(_PLACES),
            "partner_presence": (weights.partner_presence * factors["partner_presence"]).quantize(
                _PLACES
            ),
        }
        scored.append(
            TargetingScore(
                segment=item.segment,
                area=item.area,
                score=sum(contributions.values(), Decimal(0)),
                contributions=contributions,
                factors=factors,
                gap=item.gap,
                partners=item.partners,
            )
        )
    scored.sort(key=lambda s: (-s.score, s.segment, s.area))
    return scored


def _ratio(numerator: int, denominator: int) -> Decimal:
    if denominator <= 0:
        return Decimal(0)
    return (Decimal(numerator) / Decimal(denominator)).quantize(_PLACES)


def _fraction(value: Fraction | None) -> Decimal:
    if value is None:
        return Decimal(0)
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(_PLACES)
