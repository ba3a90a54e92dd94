"""The key that signs session cookies: ``CAKUPAN_SECRET_KEY``, else a random key generated once
and kept (mode 0600) in the user data directory. Never in the repository."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from platformdirs import user_data_dir

from cakupan.settings import get_settings

SECRET_FILE_NAME = "secret_key"


def default_secret_path() -> Path:
    return Path(user_data_dir("cakupan", appauthor=False)) / SECRET_FILE_NAME


def load_or_create_secret(path: Path | None = None) -> str:
    """The configured secret, else the one kept at ``path`` (created 0600 on first use)."""
    configured = get_settings().secret_key
    if configured:
        return configured
    path = path or default_secret_path()
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Created with 0600 from the start: never readable by others, even briefly.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key
