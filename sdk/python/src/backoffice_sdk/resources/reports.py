"""Reports: daily and monthly at once; custom ones made in the background."""

from __future__ import annotations

import time
from collections.abc import Sequence

from backoffice_sdk.models import Report
from backoffice_sdk.resources._base import Resource, body, segment

DONE = frozenset({"COMPLETED", "FAILED", "EXPIRED"})


class Reports(Resource):
    def daily(
        self, date: str | None = None, *, account_id: str | None = None, currency: str | None = None
    ) -> Report:
        """One day's report (`YYYY-MM-DD`, default today)."""
        params = {"date": date, "accountId": account_id, "currency": currency}
        answer = self._client.request("GET", "/v1/reports/daily", params=params)
        return Report.from_json(answer.data["report"])

    def monthly(
        self,
        month: str | None = None,
        *,
        account_id: str | None = None,
        currency: str | None = None,
    ) -> Report:
        """One month's report (`YYYY-MM`, default this month)."""
        params = {"month": month, "accountId": account_id, "currency": currency}
        answer = self._client.request("GET", "/v1/reports/monthly", params=params)
        return Report.from_json(answer.data["report"])

    def create_custom(
        self,
        date_from: str,
        date_to: str,
        *,
        group_by: str | None = None,
        format: str | None = None,
        account_ids: Sequence[str] | None = None,
        types: Sequence[str] | None = None,
        currency: str | None = None,
        idempotency_key: str | None = None,
    ) -> Report:
        """Asks for a custom report (202, PENDING); `wait` polls it to the end."""
        payload = body(
            date_range={"from": date_from, "to": date_to}, group_by=group_by, format=format,
            account_ids=list(account_ids) if account_ids else None,
            types=list(types) if types else None, currency=currency,
        )  # fmt: skip
        answer = self._client.request(
            "POST", "/v1/reports/custom", json=payload, idempotent=True,
            idempotency_key=idempotency_key,
        )  # fmt: skip
        return Report.from_json(answer.data["report"])

    def get(self, report_id: str) -> Report:
        answer = self._client.request("GET", f"/v1/reports/{segment(report_id)}")
        return Report.from_json(answer.data["report"])

    def wait(self, report_id: str, *, timeout: float = 60.0, interval: float = 0.5) -> Report:
        """Polls a report until it is COMPLETED or FAILED (TimeoutError after `timeout`)."""
        deadline = time.monotonic() + timeout
        while True:
            report = self.get(report_id)
            if report.status in DONE:
                return report
            if time.monotonic() > deadline:
                raise TimeoutError(f"report {report_id} is still {report.status}")
            time.sleep(interval)

    def download(self, report_id: str) -> bytes:
        """A completed report's file (its format's bytes)."""
        return self._client.download(f"/v1/reports/{segment(report_id)}/download")
