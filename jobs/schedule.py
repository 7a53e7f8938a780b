"""The recurring schedule, read by RQ's own cron scheduler (`python -m jobs.cron`)."""

from rq import cron

from jobs import tasks
from service.infra.queue import Lane

# Finds pending outbox rows and unprocessed inbound texts that a lost job or a Redis
# outage left behind; everything else is enqueued the moment it happens.
cron.register(tasks.sweep, Lane.BULK.value, interval=30, job_timeout=300)
# Inbound texts and callbacks spooled while the database was away (a no-op when none
# are; the drain holds its own lock, so two crons' drains do not race).
cron.register(tasks.drain_spool, Lane.SENDS.value, interval=10, job_timeout=300)
# Check-ins are due on whole minutes (cadence times are HH:MM). The tick only finds what
# is due and queues it in pages (`tick_page`, bulk), so it ends in about a second.
cron.register(tasks.tick, Lane.BULK.value, cron="* * * * *", job_timeout=300)
# Due and retried outbound calls, and recordings still to download or delete at Twilio.
cron.register(tasks.sweep_voice, Lane.BULK.value, interval=30, job_timeout=300)
# Facilitators' daily digests go out at 09:00 in each facilitator's own zone: check hourly.
cron.register(tasks.daily_digests, Lane.BULK.value, cron="5 * * * *", job_timeout=300)
# The dashboard's weekly figures per program (seconds of adding up at a large practice),
# kept in Redis so the page reads them at once: every trends.REFRESH_SECONDS.
cron.register(tasks.refresh_trends, Lane.BULK.value, interval=300, job_timeout=300)
# People gone quiet (no reply for days, no YES, no AGREE, check-ins unanswered) are raised
# on Today once per quiet spell: an hourly pass is soon enough.
cron.register(tasks.find_quiet, Lane.BULK.value, cron="20 * * * *", job_timeout=600)
