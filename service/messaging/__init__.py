"""Texts in and out: the outbox, delivery and inbound storage."""
