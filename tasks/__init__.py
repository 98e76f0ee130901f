"""Prefect tasks: thin wrappers over the EnKash client."""
