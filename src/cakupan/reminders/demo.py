"""The demo's one finished reminder experiment, on the synthetic data, labelled synthetic."""

from __future__ import annotations

from sqlalchemy import Engine, select

from cakupan.auth import Actor
from cakupan.dates import Clock, Month, today
from cakupan.db import transaction
from cakupan.reminders.experiments import DEFAULT_HOLDOUT_SHARE, create_experiment
from cakupan.reminders.models import Experiment

DEMO_EXPERIMENT = "Sintetis: WhatsApp 5 hari vs 1 hari sebelum jatuh tempo"


def seed_demo_experiment(engine: Engine, clock: Clock) -> int | None:
    """Create the demo experiment once (target month: seven months ago, so that every outcome,
    month 6 included, is final); returns its id, or None when it was already there."""
    with transaction(engine) as session:
        if session.scalar(select(Experiment.id).where(Experiment.name == DEMO_EXPERIMENT)):
            return None
        target = Month.of(today(clock)) + -7
        experiment = create_experiment(
            session,
            Actor.system("demo"),
            clock,
            name=DEMO_EXPERIMENT,
            description=(
                "DATA SINTETIS / SYNTHETIC DATA: arms and holdout assigned by hash over the"
                " synthetic participants; the synthetic ledger was generated without any reminder"
                " effect, so an honest analysis finds none (the known-effect proof is"
                " tests/unit/test_experiment_statistics.py)."
            ),
            arms=[
                {"name": "wa-5-hari", "channel": "whatsapp", "due_before_days": [5]},
                {"name": "wa-1-hari", "channel": "whatsapp", "due_before_days": [1]},
            ],
            holdout_share=DEFAULT_HOLDOUT_SHARE,
            starts_on=target.first_day,
            ends_on=target.first_day.replace(day=14),
            synthetic=True,
        )
        return experiment.id
