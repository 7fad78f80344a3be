"""Clients of other services (e.g. users and auth over gRPC once notes runs on its own).

A client implements a port that a feature of ``app.service`` owns; only the service layer
and the composition root (``app.bootstrap``, which chooses the client from the settings)
import this package, as the ``remote-behind-service`` import contract checks.
"""
