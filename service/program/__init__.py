"""The program's use cases: conversation, check-ins, commitments, enrolment."""
