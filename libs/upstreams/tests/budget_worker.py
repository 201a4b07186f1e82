"""A process that hammers one key of a rate budget and prints when each call was admitted.

Used by test_rate_budget.py: `python budget_worker.py <data_dir> <redis_url|-> <prefix> <key> <calls>
<limit> <interval_s> <start_at>`; prints one wall-clock timestamp (time.time()) per admitted call.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bridge_upstreams.rate_budget import make_rate_budget


def main() -> None:
    data_dir, url, prefix, key, calls, limit, interval_s, start_at = sys.argv[1:9]
    budget = make_rate_budget(
        "test",
        [(int(limit), float(interval_s))],
        url=None if url == "-" else url,
        data_dir=Path(data_dir),
        redis_prefix=prefix,
    )
    time.sleep(max(0.0, float(start_at) - time.time()))
    stamps = []
    for _ in range(int(calls)):
        budget.acquire(key, timeout_s=60)
        stamps.append(time.time())
    budget.close()
    print("\n".join(f"{stamp:.6f}" for stamp in stamps), flush=True)


if __name__ == "__main__":
    main()
