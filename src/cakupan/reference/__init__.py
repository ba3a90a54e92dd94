"""Reference data shipped with cakupan. Importing this module registers the loaders."""
