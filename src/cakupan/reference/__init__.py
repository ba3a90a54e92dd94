"""Reference data shipped with cakupan. Importing this module registers the loaders."""

from cakupan.registry import reference as registry_reference  # noqa: F401
