"""The audit trail: who did what, when, with before/after values. Every action writes here."""

from cakupan.audit.actions import record_audit
from cakupan.audit.models import AuditEntry

__all__ = ["AuditEntry", "record_audit"]
