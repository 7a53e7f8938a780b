"""Calls: the call script, calls out and recordings."""
