"""Tests for tenant/checks/usage.py: the daily API-call forecast (end to end: tests/bot/test_diagnose.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tenant.checks.usage import _daily_peak
from tenant.clients.dataverse import FlowRunRecord


def _run_at(start: datetime) -> FlowRunRecord:
    return FlowRunRecord.model_validate({"name": start.isoformat(), "starttime": start.isoformat()})


def test_the_forecast_takes_the_busiest_24_hours_or_the_recent_rate_when_the_history_was_capped() -> None:
    now = datetime(2024, 5, 8, 12, tzinfo=UTC)
    # 30 runs in the last 6 hours, 10 spread over the days before
    runs = [_run_at(now - timedelta(minutes=12 * n)) for n in range(30)]
    runs += [_run_at(now - timedelta(days=2 + n / 2)) for n in range(10)]

    assert _daily_peak(runs, now, capped=False) == (30.0, "peak")
    assert _daily_peak(runs[:30], now, capped=True) == (30 / (29 * 12 / 1440), "rate")
    assert _daily_peak([], now, capped=False) == (0.0, "peak")
