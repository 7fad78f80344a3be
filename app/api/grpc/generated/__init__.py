"""Code generated from ``proto/`` by ``invoke proto``; do not edit."""
