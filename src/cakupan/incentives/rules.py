"""Pure rules of the incentive schemes: agreement parameters against a scheme definition, and
(with the ledger) milestones, commissions, thresholds, shares, overrides and clawbacks.
No database, no clock."""

from __future__ import annotations

from cakupan.i18n import Text, t
from cakupan.incentives.definition import AgreementParameters, SchemeDefinition


def agreement_parameter_problems(
    definition: SchemeDefinition, parameters: AgreementParameters, kind: str | None = None
) -> list[tuple[str, Text]]:
    """``[(field, message)]`` for an agreement's parameters under a scheme: a commission rate is
    required when the scheme leaves it to the agreement and must lie within the scheme's bounds;
    parameters the scheme does not use are refused; the partner kind must be one the scheme
    applies to. Office thresholds left to the agreement may be set later (the statement then
    shows no threshold line until they are)."""
    problems: list[tuple[str, Text]] = []
    if kind is not None and kind not in definition.applies_to:
        problems.append(
            (
                "scheme",
                t(
                    "skema ini untuk jenis {a}, bukan {k}",
                    "this scheme applies to kinds {a}, not {k}",
                ).format(a=", ".join(definition.applies_to), k=kind),
            )
        )
    commission = definition.commission
    rate = parameters.commission_rate_percent
    if commission is None or commission.rate_percent is not None:
        if rate is not None:
            problems.append(
                (
                    "commission_rate",
                    t(
                        "skema ini tidak memakai tarif komisi dari perjanjian; kosongkan",
                        "this scheme takes no commission rate from the agreement; leave it empty",
                    ),
                )
            )
    elif rate is None:
        problems.append(
            (
                "commission_rate",
                t(
                    "tarif komisi wajib diisi ({lo}%-{hi}%)",
                    "a commission rate is required ({lo}%-{hi}%)",
                ).format(lo=commission.min_rate_percent, hi=commission.max_rate_percent),
            )
        )
    elif not commission.min_rate_percent <= rate <= commission.max_rate_percent:
        problems.append(
            (
                "commission_rate",
                t(
                    "tarif komisi harus antara {lo}% dan {hi}%, ditemukan {r}%",
                    "the commission rate must be between {lo}% and {hi}%, got {r}%",
                ).format(lo=commission.min_rate_percent, hi=commission.max_rate_percent, r=rate),
            )
        )
    office = definition.office_threshold
    uses_threshold = office is not None and (
        office.min_registrations is None or office.amount is None
    )
    if not uses_threshold and (
        parameters.threshold_registrations is not None or parameters.threshold_amount is not None
    ):
        problems.append(
            (
                "threshold",
                t(
                    "skema ini tidak memakai ambang dari perjanjian",
                    "this scheme takes no threshold from the agreement",
                ),
            )
        )
    return problems
