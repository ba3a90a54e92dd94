"""Run the ``cakupan`` command line on a test clock: ``python -m tests.clocked ISO-INSTANT ARGS...``.

For tests that start cakupan as a subprocess (a served API, a killed import). The clock can only be
pinned from here, a module of the test suite that is not part of the installed package, so no
deployment can switch it on (docs/time.md).
"""

from __future__ import annotations

import sys
from datetime import datetime

from cakupan.dates import pinned_system_clock
from tests.clock_support import TestClock


def run(argv: list[str]) -> None:
    at = datetime.fromisoformat(argv[0])
    from cakupan.cli.main import main

    sys.argv = ["cakupan", *argv[1:]]
    with pinned_system_clock(TestClock(at)):
        main()


if __name__ == "__main__":
    run(sys.argv[1:])
