"""Adapters: database, Twilio, queue, rate limits, storage, logs."""
