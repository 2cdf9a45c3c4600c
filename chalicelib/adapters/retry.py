"""The one backoff of our own retry loops (conditional writes that lost a race, SQS entries that
failed). Transport errors and throttling are botocore's: its `standard` retry mode
(chalicelib.runtime, and pynamodb's own retries)."""
from __future__ import annotations

import random
import time

BASE_SECONDS = 0.05
CAP_SECONDS = 1.0


def delay(attempt: int) -> float:
    """Exponential backoff with full jitter (AWS Architecture Blog, « Exponential Backoff And
    Jitter »): uniform in [0, min(cap, base × 2^attempt)]."""
    return random.uniform(0, min(CAP_SECONDS, BASE_SECONDS * 2 ** attempt))


def backoff(attempt: int, sleep=time.sleep) -> None:
    sleep(delay(attempt))
