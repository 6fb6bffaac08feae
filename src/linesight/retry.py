"""The one retry policy every tracker call goes through.

Connectors translate a failed response into :class:`~linesight.errors.TransientError` (with the
server's ``Retry-After`` / ``X-RateLimit-Reset`` turned into seconds by :func:`retry_after_seconds`)
and wrap each call in :func:`call_with_retry`. The client libraries' own retries are switched off
or bounded by the connectors, so waits never stack.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base

from linesight.errors import TransientError

__all__ = ["RetryPolicy", "call_with_retry", "retry_after_seconds"]

log = logging.getLogger("linesight.retry")
T = TypeVar("T")


def retry_after_seconds(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """The wait a server asked for: ``Retry-After`` (seconds or an HTTP date), else
    ``X-RateLimit-Reset`` (epoch seconds, or an ISO timestamp as Jira sends it). ``None`` if absent.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    now = now or datetime.now(UTC)
    value = lowered.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                return max(0.0, (when - now).total_seconds())
    reset = lowered.get("x-ratelimit-reset")
    if reset:
        reset = reset.strip()
        try:
            epoch = float(reset)
        except ValueError:
            try:
                when = datetime.fromisoformat(reset.replace("Z", "+00:00"))
            except ValueError:
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, (when - now).total_seconds())
        # small numbers are "seconds from now" (ADO style), large ones an epoch timestamp
        return max(0.0, epoch - now.timestamp()) if epoch > 1e9 else max(0.0, epoch)
    return None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, honouring the server's requested wait.

    ``max_attempts`` bounds the tries, ``max_total_wait`` the seconds spent waiting in all,
    ``max_single_wait`` caps one wait (a server asking for an hour is not obeyed blindly).
    """

    max_attempts: int = 8
    base_wait: float = 0.5
    max_single_wait: float = 60.0
    max_total_wait: float = 300.0

    def wait_for(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        requested = exc.retry_after if isinstance(exc, TransientError) else None
        # "Retry-After: 0" from a rate limiter means "now" to every client at once; retrying all
        # of them in the same instant just burns attempts, so back off as if nothing was asked
        if requested is not None and requested > 0:
            wait = min(requested, self.max_single_wait)
        else:
            wait = random.uniform(
                0, min(self.max_single_wait, self.base_wait * 2 ** (state.attempt_number - 1))
            )
        return wait


class _StopAfterTotalWait(stop_base):
    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def __call__(self, retry_state: RetryCallState) -> bool:
        upcoming = self.policy.wait_for(retry_state)
        return retry_state.idle_for + upcoming > self.policy.max_total_wait


DEFAULT_POLICY = RetryPolicy()


def call_with_retry(
    fn: Callable[[], T],
    *,
    what: str,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``fn`` until it returns, retrying :class:`TransientError` under ``policy``.

    ``what`` names the call in the warning logged before each wait (never a URL with secrets).
    The last :class:`TransientError` is re-raised when the attempts or the wait budget run out.
    """

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning("%s: %s; retrying in %.1fs (attempt %d)", what, exc, wait, state.attempt_number)

    retrying = Retrying(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(policy.max_attempts) | _StopAfterTotalWait(policy),
        wait=policy.wait_for,
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(fn)
