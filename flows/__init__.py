"""Prefect flows: the nightly AR cycle and its stages."""
