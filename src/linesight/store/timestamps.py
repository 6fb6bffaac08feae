"""How the store writes and reads timestamps: fixed-width UTC ISO 8601 text."""

from __future__ import annotations

from datetime import UTC, datetime


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    """Fixed-width UTC ISO 8601, so stored timestamps also sort as text."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: pass a timezone-aware UTC time")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
