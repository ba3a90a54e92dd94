"""The scheme definition schema and the shipped presets."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from cakupan.incentives.definition import AgreementParameters, SchemeVersion
from cakupan.incentives.reference import shipped_schemes
from cakupan.incentives.rules import agreement_parameter_problems


def _by_name() -> dict[str, SchemeVersion]:
    return {s.name: s for s in shipped_schemes()}


def test_presets_exactly_as_the_issue_lists() -> None:
    presets = _by_name()
    assert set(presets) == {
        "komunitas-2024",
        "korporasi-2024",
        "agen46-2024",
        "brilink-2024",
        "pos-2024",
        "perisai-2022",
    }
    for scheme in presets.values():
        assert scheme.source
        assert scheme.version == 1

    komunitas = presets["komunitas-2024"].definition.milestones
    assert komunitas is not None
    assert [
        (m.paid_months, m.amounts["JKK+JKM+JHT"], m.amounts["JKK+JKM"])
        for m in komunitas.milestones
    ] == [
        (1, 4000, 2500),
        (3, 4000, 2500),
        (6, 7000, 5000),
    ]
    assert komunitas.qualification is None

    agen46 = presets["agen46-2024"].definition
    assert agen46.transaction_fees is not None
    assert (agen46.transaction_fees.registration, agen46.transaction_fees.payment) == (3500, 2500)
    assert agen46.milestones is not None
    assert agen46.milestones.qualification is not None
    assert agen46.milestones.qualification.min_registrations_in_month == 25
    assert [m.amounts["JKK+JKM"] for m in agen46.milestones.milestones] == [2500, 2500, 5000]

    korporasi = presets["korporasi-2024"].definition.commission
    assert korporasi is not None
    assert (korporasi.rate_percent, korporasi.min_rate_percent, korporasi.max_rate_percent) == (
        None,
        Decimal("2.5"),
        Decimal(5),
    )

    perisai = presets["perisai-2022"].definition
    assert perisai.acquisition is not None
    assert perisai.acquisition.amounts == {"JKK+JKM+JHT": 15000, "JKK+JKM": 10000}
    assert perisai.acquisition.qualification.new_to_bpu_only is True
    assert perisai.contribution_share is not None
    assert [
        (b.from_month, b.to_month, b.rate_percent) for b in perisai.contribution_share.bands
    ] == [
        (1, 24, Decimal(15)),
        (25, 60, Decimal(5)),
    ]
    assert perisai.override is not None
    assert perisai.override.rate_percent == Decimal(10)
    assert perisai.termination is not None
    assert (perisai.termination.at_risk_months, perisai.termination.idle_months) == (2, 3)

    brilink = presets["brilink-2024"].definition
    assert [(c.period, c.scope) for c in brilink.contests] == [
        ("quarter", "national"),
        ("quarter", "regional"),
        ("full_period", "national"),
    ]
    pos = presets["pos-2024"].definition.office_threshold
    assert pos is not None
    assert (pos.min_registrations, pos.amount) == (None, None)


def _komunitas() -> dict[str, Any]:
    return json.loads(_by_name()["komunitas-2024"].model_dump_json())


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ("definition", "milestones", "milestones", 0, "amounts"),
            {"JKK+JKM": 1},
            "every program set",
        ),
        (("definition", "milestones", "milestones", 1, "paid_months"), 1, "distinct"),
        (("definition", "applies_to"), ["bank"], "Input should be"),
        (("definition", "surprise"), 1, "Extra inputs"),
        (("name",), "Bad Name", "lower-case"),
        (("valid_to",), "2023-01-01", "valid_to"),
        (("definition", "milestones", "milestones", 0, "amounts", "JKK+JKM"), -1, "greater than"),
    ],
)
def test_definition_errors(path: tuple[Any, ...], value: Any, message: str) -> None:
    data = _komunitas()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError, match=message):
        SchemeVersion.model_validate(data)


def test_overlapping_share_bands_are_refused() -> None:
    data = json.loads(_by_name()["perisai-2022"].model_dump_json())
    data["definition"]["contribution_share"]["bands"][1]["from_month"] = 24
    with pytest.raises(ValidationError, match="overlap"):
        SchemeVersion.model_validate(data)


def test_agreement_parameters_against_schemes() -> None:
    presets = _by_name()
    korporasi = presets["korporasi-2024"].definition

    def fields(params: dict[str, Any], kind: str = "korporasi") -> list[str]:
        problems = agreement_parameter_problems(
            korporasi, AgreementParameters.model_validate(params), kind
        )
        return [f for f, _ in problems]

    assert fields({"commission_rate_percent": "2.5"}) == []
    assert fields({"commission_rate_percent": "5"}) == []
    assert fields({"commission_rate_percent": "2.49"}) == ["commission_rate"]
    assert fields({"commission_rate_percent": "5.01"}) == ["commission_rate"]
    assert fields({}) == ["commission_rate"]
    assert fields({"commission_rate_percent": "3"}, kind="wadah") == ["scheme"]
    komunitas = presets["komunitas-2024"].definition
    assert [
        f
        for f, _ in agreement_parameter_problems(
            komunitas, AgreementParameters(commission_rate_percent=Decimal(3)), "wadah"
        )
    ] == ["commission_rate"]
    pos = presets["pos-2024"].definition
    assert agreement_parameter_problems(pos, AgreementParameters(), "pos_kc") == []
    assert (
        agreement_parameter_problems(
            pos, AgreementParameters(threshold_registrations=50, threshold_amount=500_000), "pos_kc"
        )
        == []
    )
