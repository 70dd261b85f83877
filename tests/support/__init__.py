"""Helpers shared by every test package (storage, services, gateway)."""
