"""Typer sub-apps of the ``iliopsoas`` command, one module per group."""
