"""Every page as every role in a real browser, on the demo's data (synthetic ledger, targets,
incentive statements, campaigns with prospects, a weekly review, account assignments): no raw
code, JSON fragment or server path reaches the visible text (issue 17, section 3); "Cetak" prints
without an inline script; the home page shows the user's own figures; the analytics page and
the dashboard draw their charts (cohort heatmap); the favicon is served. Desktop and phone size.

A server of its own (module scope) on its own seeded database, so that the shared browser-test
server's hand-built data stays as the other tests expect."""

from __future__ import annotations

import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime

import pytest
import uvicorn
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine

from cakupan.analytics import take_snapshot
from cakupan.auth import Actor, Role
from cakupan.dates import JAKARTA, FixedClock
from cakupan.db import make_engine, transaction
from cakupan.labels import LABELS, RAW_CODES
from cakupan.synthetic.areas import seed_demo_areas
from cakupan.synthetic.seed import seed, seed_demo_targets
from cakupan.targets.actions import import_figures
from cakupan.targets.examples import EXAMPLE_FILES
from cakupan.users import ROLE_LABELS, create_user
from cakupan.users.credentials import set_hash_parameters
from tests.conftest import Templates, _pg_admin_execute, _pg_url_for, _postgres_unavailable
from tests.e2e.charts import LAYOUT
from tests.e2e.conftest import E2E_ENGINES, _free_port

pytestmark = pytest.mark.e2e

PASSWORD = "kopi-tubruk-2026"
#: The server's "now": mid-November 2026, October closed by the seed.
CLOCK = FixedClock(datetime(2026, 11, 15, 10, 0, tzinfo=JAKARTA))
SCOPES: dict[Role, dict[str, str]] = {
    Role.ADMIN: {},
    Role.HEAD_OFFICE: {},
    Role.AUDITOR: {},
    Role.REGIONAL: {"region_code": "SUMBAGSEL"},
    Role.KABID: {"branch_code": "PLG"},
    Role.ARK: {"branch_code": "PLG"},
    Role.AR: {"branch_code": "PLG"},
    Role.PAP: {"branch_code": "PLG"},
    Role.PARTNER: {"partner_code": "PLG-WDH01"},
    Role.AGENT: {"partner_code": "PLG-WDH01", "agent_code": "PLG-WDH01-P01"},
}
PAGES = (
    "/",
    "/dashboard",
    "/dashboard/league",
    "/dashboard/warnings",
    "/dashboard/worklist",
    "/dashboard/worklist?kind=closed",
    "/dashboard/records?kpi=active",
    "/dashboard/records?kpi=payments",
    "/participants?q=a",
    "/participants/new",
    "/imports",
    "/campaigns",
    "/campaigns/calendar?month=2026-10",
    "/campaigns/new",
    "/prospects",
    "/segments/coverage",
    "/targets",
    "/targets?office=PLG&year=2018",
    "/plans",
    "/reviews",
    "/field-log",
    "/incentives/statements",
    "/agents",
    "/partners/applications",
    "/analytics",
    "/account",
    "/users",
)
#: The first link of each kind of detail page found on the list pages is visited too.
DETAIL_LINKS = re.compile(
    r"^/(campaigns/[A-Z0-9-]+|partners/[^/]+/detail|incentives/statements/\d+|reviews/\d+|plans/\d+"
    r"|participants/\d+|agents/[A-Za-z0-9._-]+|partners/applications/\d+)$"
)
#: The audit log shows the stored action names and records as they are: an auditor's evidence.
EXEMPT = ("/audit",)
#: Lower-case single-word codes that are not words of the Indonesian page (brands, terms of art
#: and words the Indonesian text uses are left out).
_WORDS_OF_THE_PAGE = {
    "bank",
    "marbot",
    "wadah",
    "perisai",
    "korporasi",
    "brilink",
    "radio",
    "event",
}
SINGLE_WORD_CODES = {
    code
    for kind in LABELS.values()
    for code in kind
    if "_" not in code and code.islower() and code not in _WORDS_OF_THE_PAGE and code.isalpha()
}
_TOKEN = re.compile(r"(?<![\w.@/-])[a-z][a-z0-9_]*(?![\w.@/-])")
_JSON = re.compile(r'\{"|"\s*:\s*[\[{"\d]|\[\{')
_PATHS = re.compile(r"(/tmp/|/home/|/var/|/work/|site-packages|Traceback)")


def username_for(role: Role) -> str:
    return f"uji.{role.value.replace('_', '-')}"


@pytest.fixture(scope="module", params=E2E_ENGINES)
def seeded_engine(
    request: pytest.FixtureRequest, _templates: Templates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "postgresql" and _templates.pg_database is None:
        _postgres_unavailable(_templates)
    restore = set_hash_parameters(time_cost=1, memory_cost=1024, parallelism=1)
    name = None
    if request.param == "postgresql":
        name = f"{_templates.pg_database}_pages_{secrets.token_hex(3)}"
        _pg_admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{_templates.pg_database}"')
        engine = make_engine(_pg_url_for(name))
    else:
        path = tmp_path_factory.mktemp("pages") / "cakupan.db"
        shutil.copyfile(_templates.sqlite_path, path)
        engine = make_engine(f"sqlite:///{path}")
    try:
        seed(engine, participants=400, seed_value=3, as_of=date(2026, 10, 31), clock=CLOCK)
        seed_demo_targets(engine, 2026)
        for example in EXAMPLE_FILES:
            import_figures(engine, Actor.system("e2e"), example)
        with transaction(engine) as session:
            for role, scope in SCOPES.items():
                create_user(
                    session,
                    Actor.system("e2e"),
                    username=username_for(role),
                    role=role.value,
                    full_name=f"Uji {ROLE_LABELS[role].id}",
                    password=PASSWORD,
                    **scope,
                )
        seed_demo_areas(
            engine,
            CLOCK,
            officers={username_for(Role.ARK): "ark", username_for(Role.AR): "ar"},
        )
        yield engine
    finally:
        engine.dispose()
        if name is not None:
            _pg_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        restore()


@pytest.fixture(scope="module")
def server(seeded_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on the seeded database with its analytics snapshot, on a fixed clock."""
    from cakupan.web import create_app

    snapshot = tmp_path_factory.mktemp("snapshot") / "latest"
    take_snapshot(
        seeded_engine, Actor.system("e2e"), snapshot, as_of=date(2026, 10, 31), taken_at=CLOCK.now()
    )
    port = _free_port()
    app = create_app(
        seeded_engine,
        secret_key=secrets.token_urlsafe(32),
        clock=CLOCK,
        analytics_snapshot=snapshot,
    )
    uv = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=uv.run, name="e2e-pages-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=10)


def _page(browser: Browser, url: str, width: int, height: int) -> Page:
    context = browser.new_context(
        base_url=url, locale="id-ID", viewport={"width": width, "height": height}
    )
    context.set_default_timeout(15_000)
    # window.print opens a dialog a headless browser cannot show: record the call instead.
    context.add_init_script("window.print = function () { window.__printed = true; };")
    return context.new_page()


def _sign_in(page: Page, role: Role) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username_for(role))
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/")


def _findings(text: str) -> list[str]:
    found = []
    for token in _TOKEN.findall(text):
        if token in RAW_CODES or token in SINGLE_WORD_CODES or "_" in token:
            found.append(token)
    found += [f"JSON {m!r}" for m in _JSON.findall(text)]
    found += [f"path {m!r}" for m in _PATHS.findall(text)]
    return sorted(set(found))


@pytest.mark.parametrize("role", list(SCOPES), ids=lambda r: r.value)
def test_every_page_speaks_indonesian(browser: Browser, server: str, role: Role) -> None:
    """Each page the role may open (and the first detail page of each kind linked from them)
    has no raw code, JSON fragment or server path in its visible text, and logs no console
    error other than the refusals of pages the role may not open."""
    page = _page(browser, server, 1366, 900)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _sign_in(page, role)
    queue, seen, kinds = list(PAGES), set(), set()
    problems: dict[str, list[str]] = {}
    opened = 0
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = page.goto(url)
        assert response is not None
        if response.status in (403, 404) and url in PAGES:
            continue
        assert response.status == 200, (url, response.status)
        opened += 1
        if url.startswith(EXEMPT):
            continue
        found = _findings(page.inner_text("main"))
        if found:
            problems[url] = found
        if url in PAGES:
            for href in page.eval_on_selector_all(
                "main a[href]", "els => els.map(e => e.getAttribute('href'))"
            ):
                match = href and DETAIL_LINKS.match(href)
                kind = match and re.sub(r"[^/]+$", "", href.replace("/detail", ""))
                if match and kind not in kinds:
                    kinds.add(kind)
                    queue.append(href)
    page.context.close()
    assert not problems, problems
    assert opened >= 8
    refusals = [e for e in errors if "403" not in e and "404" not in e]
    assert not refusals, refusals


def test_figures_print_and_charts(browser: Browser, server: str) -> None:
    """The kabid's home page shows their own figures and tasks (no placeholder, no OpenAPI
    card); the targets page prints ("Cetak") without a CSP error; the dashboard draws the
    cohort heatmap with one-language legends; favicon.ico is served."""
    page = _page(browser, server, 1366, 900)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _sign_in(page, Role.KABID)
    home = page.inner_text("main")
    assert "per 31 Okt 2026" in page.inner_text("[data-testid=my-figures-as-of]")
    assert page.locator("[data-testid=my-active-participants] strong").inner_text().strip()
    assert "akan tampil di sini" not in home
    assert "OpenAPI" not in home
    assert page.locator("[data-testid=my-tasks] li").count() >= 1

    page.goto("/targets")
    page.get_by_role("button", name="Cetak").click()
    assert page.evaluate("window.__printed === true")
    assert "per 31 Okt 2026" in page.inner_text("[data-testid=targets-as-of]")

    page.goto("/dashboard")
    page.wait_for_selector("#cohort-chart[data-chart-ready='1']")
    option = page.evaluate(
        "(() => { const c = echarts.getInstanceByDom(document.getElementById('cohort-chart'));"
        " return c.getOption().series.map(s => s.type); })()"
    )
    assert option == ["heatmap"]
    legends = page.evaluate(
        "(() => { const c = echarts.getInstanceByDom(document.getElementById('trend-chart'));"
        " return c.getOption().series.map(s => s.name); })()"
    )
    assert legends == ["Pendaftaran baru", "Peserta aktif", "Iuran terkumpul"]
    assert "per 31 Okt 2026" in page.inner_text("[data-testid=as-of]")

    favicon = page.request.get("/favicon.ico")
    assert favicon.status == 200
    assert favicon.headers["content-type"] == "image/x-icon"
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    page.context.close()


@pytest.mark.parametrize("size", [(1366, 900), (390, 844)], ids=["desktop", "phone"])
def test_analytics_draws_and_hides_paths(
    browser: Browser, server: str, size: tuple[int, int]
) -> None:
    """/analytics finds the snapshot, draws the province bars and the cohort heatmap, shows
    percentages as "54,2%" and no server path; the dashboard's pickers follow the scope."""
    page = _page(browser, server, *size)
    _sign_in(page, Role.HEAD_OFFICE)
    page.goto("/analytics")
    page.wait_for_selector("#province-chart[data-chart-ready='1']")
    page.wait_for_selector("#analytics-cohort-chart[data-chart-ready='1']")
    # The colour scale below the heatmap, its month-of-age labels and the axis name.
    layout = page.evaluate(LAYOUT, "analytics-cohort-chart")
    assert layout["visualMap"]["top"] >= layout["grid"]["bottom"] + 36, layout
    text = page.inner_text("main")
    assert not _PATHS.findall(text)
    assert re.search(r"\d+,\d%", text)
    assert not re.search(r"\d+\.\d%", text)
    page.goto("/dashboard")
    assert page.locator("[data-testid=filter-region] option").count() > 2
    page.context.close()

    partner = _page(browser, server, *size)
    _sign_in(partner, Role.PARTNER)
    partner.goto("/dashboard")
    for name in ("region", "branch", "partner"):
        assert partner.locator(f"[data-testid=filter-{name}]").count() == 0
    refused = partner.goto("/dashboard?branch=BDL")
    assert refused is not None
    assert refused.status == 422
    assert "di luar cakupan Anda" in partner.inner_text("main")
    partner.context.close()


def test_review_page_has_print_stylesheet(browser: Browser, server: str) -> None:
    page = _page(browser, server, 390, 844)
    _sign_in(page, Role.KABID)
    page.goto("/reviews")
    page.locator("main a[href^='/reviews/']").first.click()
    page.emulate_media(media="print")
    assert not page.locator("header.topbar").is_visible()
    page.context.close()
