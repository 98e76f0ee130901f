"""The backend of the sandbox: state and business rules of the EnKash AR service, without HTTP."""

from sandbox.backend.ar_backend import ArBackend

__all__ = ["ArBackend"]
