"""Bilingual text: Bahasa Indonesia first, English switchable.

User-facing strings are written once as a :class:`Text` pair where they are made, and rendered in
the language of the request, the command (``--lang``) or the settings (``CAKUPAN_LANG``).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

Lang = Literal["id", "en"]
LANGS: tuple[Lang, ...] = ("id", "en")

_current: ContextVar[Lang | None] = ContextVar("cakupan_lang", default=None)


@dataclass(frozen=True, slots=True)
class Text:
    """A message in both languages. ``str(text)`` renders it in the current language."""

    id: str
    en: str

    def render(self, lang: Lang | None = None) -> str:
        return self.en if (lang or current_lang()) == "en" else self.id

    def format(self, **values: object) -> Text:
        """Both languages with ``{placeholders}`` filled in."""
        return Text(id=self.id.format(**values), en=self.en.format(**values))

    def __str__(self) -> str:
        return self.render()


def t(id: str, en: str) -> Text:
    """Shorthand for ``Text(id=..., en=...)``: Indonesian first."""
    return Text(id=id, en=en)


def current_lang() -> Lang:
    """The language in force: the context's, else the settings'."""
    lang = _current.get()
    if lang is not None:
        return lang
    from cakupan.settings import get_settings

    return get_settings().lang


def set_lang(lang: Lang) -> None:
    """Set the language for the current context (a CLI run, a web request)."""
    _current.set(lang)
