"""The rules of the five steps, pure: no session, no I/O, no clock."""
