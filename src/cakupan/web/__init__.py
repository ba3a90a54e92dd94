"""The web application (pages and ``/api/v1``): see ``docs/web.md``."""

from cakupan.web.app import create_app

__all__ = ["create_app"]
