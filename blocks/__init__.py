"""Prefect blocks."""
