"""``cakupan webhooks ...``: run the delivery worker, re-send a delivery."""

from __future__ import annotations

from typing import Annotated

import typer

from cakupan.auth import Actor
from cakupan.cli.common import DatabaseUrlOption, JsonOption, open_engine, print_json
from cakupan.dates import SystemClock
from cakupan.db import transaction
from cakupan.integration import actions, webhooks

app = typer.Typer(help="Webhook partner (outbox) / webhook mitra.", no_args_is_help=True)


@app.command("work")
def work(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due, then exit (else run forever).")
    ] = False,
    poll: Annotated[float, typer.Option("--poll", help="Seconds to sleep when idle.")] = 2.0,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fan out new events to subscriptions and deliver them (signed, retried with back-off)."""
    engine = open_engine(database_url)
    result = webhooks.work(engine, once=once, poll_seconds=poll)
    if as_json:
        print_json(result.as_json())
    else:
        typer.echo(
            f"events {result.dispatched_events}, deliveries {result.deliveries_created}, "
            f"delivered {result.delivered}, retrying {result.retried}, failed {result.failed}"
        )


@app.command("resend")
def resend(
    delivery_id: Annotated[int, typer.Argument(help="Delivery id.", show_default=False)],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Queue a delivery again (due now, attempts reset); the worker sends it."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        event_id = actions.resend_delivery(session, Actor.system(), delivery_id, SystemClock())
    if as_json:
        print_json({"delivery_id": delivery_id, "event_id": event_id, "status": "pending"})
    else:
        typer.echo(f"delivery {delivery_id} (event {event_id}) queued")
