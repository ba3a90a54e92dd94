"""The one text normaliser of every input path (issue 21): imports, pages, API and CLI.

Text is NFC-normalised (``e`` + combining acute and ``é`` are one name) and refused when it holds
a character that is invisible or changes how text is shown: C0/C1 control characters (NUL, ESC,
BEL, ...), format characters (zero-width space and joiners, BOM, word joiner, soft hyphen, the
bidi embeddings, overrides and isolates), surrogates. A NUL was stored truncated by SQLite and
crashed the import on PostgreSQL; a bidi override makes a reference read differently than it is.
"""

from __future__ import annotations

import unicodedata

from cakupan.i18n import Text, t

__all__ = ["clean_text", "forbidden_character", "text_problem"]

_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


def clean_text(value: str) -> str:
    """``value`` NFC-normalised with surrounding whitespace removed (check it with
    :func:`text_problem` first)."""
    return unicodedata.normalize("NFC", value).strip()


def forbidden_character(value: str) -> tuple[int, str] | None:
    """The first (position, character) of ``value`` that text may not hold, or None."""
    if value.isascii() and value.isprintable():
        return None  # the common case, one C-level scan
    for position, char in enumerate(value):
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            return position, char
    return None


def text_problem(value: str, what: Text | None = None) -> Text | None:
    """Why ``value`` (``what``, e.g. ``t("nama", "the name")``) is refused as text, naming the
    character and its position; None when it is acceptable."""
    found = forbidden_character(value)
    if found is None:
        return None
    position, char = found
    what = what or t("teks", "the text")
    code = f"U+{ord(char):04X}"
    name = unicodedata.name(char, "control character")
    return Text(
        id=f"{what.id} berisi karakter tak terlihat/kontrol {code} ({name}) di posisi "
        f"{position + 1}; hapus lalu ketik ulang",
        en=f"{what.en} holds an invisible/control character {code} ({name}) at position "
        f"{position + 1}; remove it and type the text again",
    )
