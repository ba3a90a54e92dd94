"""Command-line interface (Typer). Commands are thin: they parse, call actions/queries, print."""
