"""Run an RQ worker (with the scheduler, for retries and timed sends) on the configured Redis."""

from __future__ import annotations

import argparse

import redis
from rq import Queue, SimpleWorker, Worker

from service.config import load_settings
from service.infra.logs import install_redaction
from service.infra.queue import QUEUE


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    parser.add_argument("--fork", action="store_true", help="fork a child process per job")
    args = parser.parse_args(argv)
    settings = load_settings()
    install_redaction(settings.log_level)
    connection = redis.Redis.from_url(settings.effective_redis_url)
    # Jobs run in the worker process by default: its database pool and Twilio client are
    # then reused across jobs (a fork per job rebuilds them; ~4x slower, see STACK-NOTES).
    worker_class = Worker if args.fork else SimpleWorker
    worker = worker_class([Queue(QUEUE, connection=connection)], connection=connection)
    worker.work(with_scheduler=True, burst=args.burst)


if __name__ == "__main__":
    main()
