"""Jinja2 templates with the filters every page uses: ``rupiah``, ``number``, ``tanggal`` (date),
``waktu`` (instant, WIB), ``pct`` (``54,2%``), ``bulan`` (``Nov 2026``), ``figure_label`` /
``figure_definition`` / ``as_of`` (cakupan.figures), ``label(kind)`` for any code (cakupan.labels),
and ``tr("Indonesian", "English")`` for bilingual text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from cakupan import figures, labels
from cakupan.auth import Role
from cakupan.formats import format_count, format_month, format_pct
from cakupan.i18n import Lang, Text
from cakupan.money import format_number, format_rupiah
from cakupan.users import ROLE_LABELS
from cakupan.web.deps import csrf_token, request_lang
from cakupan.web.formatting import format_date, format_datetime

TEMPLATES_DIR = Path(__file__).parent / "templates"


def _lang(context: Context) -> Lang:
    lang = context.get("lang")
    return "en" if lang == "en" else "id"


@pass_context
def _tr(context: Context, indonesian: str, english: str) -> str:
    return english if _lang(context) == "en" else indonesian


@pass_context
def _text(context: Context, value: Text | str) -> str:
    return value.render(_lang(context)) if isinstance(value, Text) else value


@pass_context
def _tanggal(context: Context, value: Any) -> str:
    return format_date(value, _lang(context))


@pass_context
def _waktu(context: Context, value: Any) -> str:
    return format_datetime(value, _lang(context))


@pass_context
def _pct(context: Context, value: Any) -> str:
    return format_pct(value, _lang(context))


@pass_context
def _decimal(context: Context, value: Any) -> str:
    return format_count(value, _lang(context))


@pass_context
def _bulan(context: Context, value: Any) -> str:
    return format_month(value, _lang(context))


@pass_context
def _figure_label(context: Context, code: str) -> str:
    return figures.label(code, _lang(context))


@pass_context
def _figure_definition(context: Context, code: str) -> str:
    found = figures.FIGURES.get(code)
    return "" if found is None else found.definition.render(_lang(context))


@pass_context
def _as_of(context: Context, month: Any) -> str:
    return figures.as_of_text(month, _lang(context))


@pass_context
def _code_label(context: Context, code: Any, kind: str) -> str:
    return labels.label(kind, code, _lang(context))


@pass_context
def _role_label(context: Context, role: str) -> str:
    try:
        return ROLE_LABELS[Role(role)].render(_lang(context))
    except ValueError:
        return role


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["rupiah"] = format_rupiah
    env.filters["number"] = format_number
    env.filters["tanggal"] = _tanggal
    env.filters["waktu"] = _waktu
    env.filters["text"] = _text
    env.filters["role_label"] = _role_label
    env.filters["pct"] = _pct
    env.filters["bulan"] = _bulan
    env.filters["decimal"] = _decimal
    env.filters["figure_label"] = _figure_label
    env.filters["figure_definition"] = _figure_definition
    env.filters["as_of"] = _as_of
    env.filters["label"] = _code_label
    env.globals["tr"] = _tr
    return env


templates = Jinja2Templates(env=_environment())


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render a page with what every page needs: language, CSRF token, the signed-in user."""
    values: dict[str, Any] = {
        "lang": request_lang(request),
        "csrf_token": csrf_token(request),
        "user": getattr(request.state, "user", None),
        "request_id": getattr(request.state, "request_id", ""),
    }
    values.update(context or {})
    return templates.TemplateResponse(request, name, values, status_code=status_code)
