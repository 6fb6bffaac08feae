"""Fault injection for the sandbox: latency, random failures and a per-second rate limit.

The server asks a :class:`FaultInjector` once per tracker request, *before* the tracker app sees
it, so an injected failure never leaves a write half-done: either the write happened and the
client got its answer, or nothing happened. The one exception is asked for by name: ``lost``
lets the tracker make the write and then drops the answer, to test that clients do not
duplicate a write they cannot know was made. Decisions come from one seeded RNG under a lock, so
a run with the same seed and the same request order sees the same faults.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

__all__ = ["ALL_FAULT_KINDS", "FAULT_KINDS", "Fault", "FaultConfig", "FaultInjector"]

FaultKind = Literal["429", "500", "503", "drop", "lost"]
FAULT_KINDS: tuple[FaultKind, ...] = ("429", "500", "503", "drop")
"""The default kinds: each fails a request before the tracker sees it."""
ALL_FAULT_KINDS: tuple[FaultKind, ...] = (*FAULT_KINDS, "lost")
"""Plus ``lost``, only when asked for: the tracker *handles* the request (a write is made),
then the connection closes without the answer — what a client cannot tell from ``drop``."""


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """What the sandbox does to tracker requests (control endpoints are never affected).

    ``latency_ms``: sleep before answering each request. ``fail_rate``: probability (0..1) that a
    request fails with one of ``kinds`` (429 with ``Retry-After``, 500, 503, a connection
    closed without an answer, or — opt-in — ``lost``: handled, then closed without the
    answer). ``rate_limit``: requests per second allowed; beyond it, 429 with
    ``Retry-After`` and ``X-RateLimit-*`` headers. ``seed``: the RNG seed. ``retry_after``: the
    seconds named in ``Retry-After``.
    """

    latency_ms: float = 0.0
    fail_rate: float = 0.0
    rate_limit: int | None = None
    seed: int = 0
    retry_after: int = 1
    kinds: tuple[FaultKind, ...] = FAULT_KINDS

    def __post_init__(self) -> None:
        if self.latency_ms < 0:
            raise ValueError(f"latency_ms must be >= 0, got {self.latency_ms}")
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ValueError(f"fail_rate must be between 0 and 1, got {self.fail_rate}")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError(
                f"rate_limit must be >= 1 request/second or null, got {self.rate_limit}"
            )
        if self.retry_after < 0:
            raise ValueError(f"retry_after must be >= 0 seconds, got {self.retry_after}")
        unknown = [k for k in self.kinds if k not in ALL_FAULT_KINDS]
        if unknown or not self.kinds:
            raise ValueError(
                f"kinds must be a non-empty subset of {list(ALL_FAULT_KINDS)}, "
                f"got {list(self.kinds)}"
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> FaultConfig:
        """Build from JSON (``POST /_sandbox/faults``); missing fields take their defaults.

        Raises ``ValueError`` with a one-line message on unknown fields or bad values.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault setting(s) {unknown} (known: {sorted(known)})")
        values = dict(data)
        for name in ("latency_ms", "fail_rate"):
            if name in values:
                values[name] = _number(values[name], name)
        for name in ("seed", "retry_after"):
            if name in values:
                values[name] = _strict_int(values[name], name)
        if values.get("rate_limit") is not None:
            values["rate_limit"] = _strict_int(values["rate_limit"], "rate_limit")
        if "kinds" in values:
            kinds = values["kinds"]
            if not isinstance(kinds, list | tuple):
                raise ValueError(f"kinds must be a list such as {list(FAULT_KINDS)}, got {kinds!r}")
            values["kinds"] = tuple(str(k) for k in kinds)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``GET /_sandbox/faults``)."""
        data = asdict(self)
        data["kinds"] = list(self.kinds)
        return data


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    return float(value)


def _strict_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return int(value)


@dataclass(frozen=True, slots=True)
class Fault:
    """One decided failure. ``status`` is ``None`` for a dropped connection."""

    kind: Literal["429", "500", "503", "drop", "lost", "rate_limit"]
    status: int | None
    headers: dict[str, str]


class FaultInjector:
    """Decides, per tracker request, whether and how it fails. Thread-safe."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self._config = config or FaultConfig()
        self._rng = random.Random(self._config.seed)
        self._window_start = 0.0
        self._window_count = 0

    @property
    def config(self) -> FaultConfig:
        return self._config

    def configure(self, config: FaultConfig) -> None:
        """Switch to ``config``; the RNG restarts from its seed and the rate window is cleared."""
        with self._lock:
            self._config = config
            self._rng = random.Random(config.seed)
            self._window_start = 0.0
            self._window_count = 0

    def latency_seconds(self) -> float:
        return self._config.latency_ms / 1000.0

    def decide(self) -> Fault | None:
        """The fault for the next request, or ``None`` to serve it normally."""
        config = self._config
        if config.rate_limit is None and config.fail_rate <= 0.0:
            return None  # the common case takes no lock
        with self._lock:
            if config.rate_limit is not None:
                fault = self._rate_limited(config, config.rate_limit)
                if fault is not None:
                    return fault
            if config.fail_rate > 0.0 and self._rng.random() < config.fail_rate:
                kind = self._rng.choice(config.kinds)
                if kind in ("drop", "lost"):
                    return Fault(kind, None, {})
                if kind == "429":
                    return Fault("429", 429, {"Retry-After": str(config.retry_after)})
                return Fault(kind, int(kind), {})
        return None

    def _rate_limited(self, config: FaultConfig, limit: int) -> Fault | None:
        # A fixed one-second window: simple, predictable, and what "N requests/second" means
        # to a person reading a test.
        now = time.time()
        if now - self._window_start >= 1.0:
            self._window_start = float(int(now))
            self._window_count = 0
        self._window_count += 1
        remaining = max(0, limit - self._window_count)
        if self._window_count <= limit:
            return None
        reset_at = self._window_start + 1.0
        headers = {
            "Retry-After": str(max(config.retry_after, 1)),
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(int(reset_at)),
        }
        return Fault("rate_limit", 429, headers)
