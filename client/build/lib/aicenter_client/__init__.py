"""A Python library for an AI Center service, and the `aicenter` command built on it."""

from aicenter_client.client import ApiError, Client, NotFound, Unreachable

__all__ = ["ApiError", "Client", "NotFound", "Unreachable"]
