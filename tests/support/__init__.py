"""Test support code: databases, a running service, seeded worlds."""
