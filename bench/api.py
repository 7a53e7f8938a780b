"""The read API's participants list: the same pages at 1,000 and at 100,000 participants.

A page should cost its rows, not the population: keyset pages (`id > cursor ORDER BY id
LIMIT n+1`) within the token's programs. One facilitator's program is loaded with 1,000
participants in step 5 (as the tick benchmark loads them); the first page and a page in the
middle (`limit=100`, filtered by program and status) are asked for many times through the
app (Flask's test client, in this process: the app's own work, no network), with a
facilitator's token, the audit line and the rate limit (set out of reach) included. Then
99,000 more are bulk-loaded and the same pages asked again.

Result: `p50_ms` and `p99_ms` at 100,000, `p50_1k_ms` at 1,000, and `ratio` (p50 at
100,000 over p50 at 1,000; goal <= 2). On SQLite the numbers are only indicative.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import _common as c

NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
SMALL = c.size(1_000, 200)
LARGE = c.size(100_000, 4_000)
ROUNDS = c.size(200, 20)


def pages(client, token: str, program_id: int) -> list[str]:
    from service.core import cursors

    base = f"/api/v1/participants?program={program_id}&status=active&limit=100"
    return [base, f"{base}&cursor={cursors.encode(SMALL // 2)}"]


def timed(client, token: str, urls: list[str]) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    for url in urls:  # warm up: connections, caches, the planner
        assert client.get(url, headers=headers).status_code == 200
    samples = []
    for _ in range(ROUNDS):
        for url in urls:
            began = time.perf_counter()
            answer = client.get(url, headers=headers)
            samples.append((time.perf_counter() - began) * 1000)
            assert answer.status_code == 200 and len(answer.json["data"]) == 100, answer.text
    return samples


def main() -> None:
    from service.app import create_app
    from service.models import Facilitator
    from service.program import tokens

    with c.backend() as be:
        c.log("api bench:", be.describe())
        settings = c.settings_for(be, api_rate_limit="100000000/minute")
        app = create_app(settings)
        services = app.extensions["realign"]
        program = c.make_program(services)
        with services.sessions() as session:
            coach = session.get(Facilitator, program.owner_id)
            _, token = tokens.create(session, coach, "bench", now=NOW, actor="bench")
            session.commit()
        c.load_step5(services.engine, program.id, range(1, SMALL + 1), lambda pid: None, now=NOW)
        client = app.test_client()
        urls = pages(client, token, program.id)
        small = timed(client, token, urls)
        c.log(f"{SMALL} participants: p50 {c.median(small):.2f} ms")
        seconds = c.load_step5(
            services.engine, program.id, range(SMALL + 1, LARGE + 1), lambda pid: None, now=NOW
        )
        c.log(f"loaded {LARGE - SMALL} more in {seconds:.1f} s")
        large = timed(client, token, urls)
        p50_small, p50_large = c.median(small), c.median(large)
        c.log(f"{LARGE} participants: p50 {p50_large:.2f} ms")
        c.bench_line(
            "api",
            p50_ms=p50_large,
            p99_ms=c.percentile(large, 99),
            p50_1k_ms=p50_small,
            ratio=p50_large / p50_small,
            n=LARGE,
            database=be.database,
        )
        services.engine.dispose()


if __name__ == "__main__":
    main()
