"""The one settings object. Values come from the environment (prefix ``CAKUPAN_``) or a ``.env`` file.

The default database is an embedded SQLite file in the user's data directory
(``$XDG_DATA_HOME/cakupan/cakupan.db``, usually ``~/.local/share/cakupan/cakupan.db``), so that
every command run by the same user sees the same data wherever it is started from.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Business time zone of the agency: every "today", month end and period is read here.
BUSINESS_TIME_ZONE = "Asia/Jakarta"


def default_database_url() -> str:
    """SQLite file in the user's data directory."""
    path = Path(user_data_dir("cakupan", appauthor=False)) / "cakupan.db"
    return f"sqlite:///{path}"


def default_analytics_snapshot() -> Path:
    """Where ``cakupan analytics snapshot`` writes and the national analytics page reads."""
    return Path(user_data_dir("cakupan", appauthor=False)) / "analytics" / "latest"


class Settings(BaseSettings):
    """Runtime settings. Override any field with ``CAKUPAN_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="CAKUPAN_", env_file=".env", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    #: Language of messages and pages: Bahasa Indonesia first, English switchable.
    lang: Literal["id", "en"] = "id"
    #: Bring the schema and reference data up to date when a command opens the database.
    #: Production PostgreSQL deployments may turn this off and run ``cakupan db upgrade`` instead.
    auto_migrate: bool = True
    #: Secret for signing session cookies and webhooks; the demo generates one per data directory.
    secret_key: str | None = None
    #: Mark the session cookie ``Secure`` (set true when the app is served over HTTPS).
    secure_cookies: bool = False
    #: Partner API rate limit per client (token bucket): sustained requests per second, burst.
    api_rate_per_second: float = 50.0
    api_burst: int = 100
    #: Keep those buckets in Redis, shared by every worker (e.g. ``redis://127.0.0.1:6379/0``);
    #: unset: in each process (cakupan.integration.ratelimit).
    api_rate_limit_redis_url: str | None = None
    #: Directory of the national analytics snapshot (default: the user data directory's
    #: ``analytics/latest``); docs/analytics.md.
    analytics_snapshot: Path = Field(default_factory=default_analytics_snapshot)
    #: Reminder provider's HTTP API (WhatsApp/SMS); unset: the local fake gateway records what
    #: would be sent (docs/reminders.md). The key authenticates cakupan to the provider.
    reminder_gateway_url: str | None = None
    reminder_gateway_key: str | None = None
    #: Shared secret the provider sends (header X-Cakupan-Gateway-Key) with delivery status
    #: callbacks and replies (STOP); unset: those endpoints answer 404.
    reminder_callback_key: str | None = None
    #: Messages per second per channel (WhatsApp, SMS): 30/s spreads 1,000,000 over ~9 hours.
    reminder_rate_per_second: float = 30.0
    #: Webhook destinations (docs/security.md): https only, and no loopback, private,
    #: link-local or metadata address (after DNS resolution). Tests and a local demo relax them.
    webhook_https_only: bool = True
    webhook_allow_private_addresses: bool = False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
