"""Subcommands of the codeit command line."""
