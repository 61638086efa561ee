"""How notifications leave the bank: email over SMTP (the standard library's
smtplib), text messages through an `SmsSender`.

- `SmtpEmailSender` sends one batch of messages over one SMTP connection
  (STARTTLS and login when configured: BANK_SMTP_*). A message's
  `Message-ID` is made of its notification id, so a receiver can recognise
  the rare repeat (a process killed after sending, before recording).
- `SmsSender` is the interface a real SMS provider plugs in behind (an
  adapter for an HTTP API such as Twilio's or an SMPP gateway, chosen by
  configuration); `SandboxSmsSender`, the only one built, delivers to the
  sandbox inbox only: it logs the masked number and reports success.

Destinations are never logged in full (server.domain.notifications
.mask_destination); bodies and codes never.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

from server.config import Settings
from server.domain import notifications as rules
from server.store.notifications import NotificationRecord, Outcome

log = logging.getLogger(__name__)
SMTP_TIMEOUT_SECONDS = 10.0
MESSAGE_ID_DOMAIN = "notifications.bank.example"


class EmailSender(Protocol):
    def send(self, messages: Sequence[NotificationRecord]) -> list[Outcome]:
        """One outcome per message, in order; never raises."""
        ...


class SmsSender(Protocol):
    """A text-message provider: one outcome per message, in order; never raises."""

    def send(self, messages: Sequence[NotificationRecord]) -> list[Outcome]: ...


def email_message(item: NotificationRecord, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = item.destination
    message["Subject"] = item.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{item.id}@{MESSAGE_ID_DOMAIN}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(item.body)
    return message


def _permanent(exc: smtplib.SMTPException) -> bool:
    code = getattr(exc, "smtp_code", 0) or 0
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [answer[0] for answer in exc.recipients.values()]
        return bool(codes) and all(500 <= c < 600 for c in codes)
    return 500 <= int(code) < 600


class SmtpEmailSender:
    """Email through the SMTP relay of `settings` (BANK_SMTP_HOST and the rest)."""

    def __init__(self, settings: Settings) -> None:
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.user = settings.smtp_user
        self.password = settings.smtp_password
        self.sender = settings.smtp_from
        self.starttls = settings.smtp_starttls

    def _connect(self) -> smtplib.SMTP:
        client = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS)
        try:
            client.ehlo()
            if self.starttls:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if self.user:
                client.login(self.user, self.password)
        except BaseException:
            client.close()
            raise
        return client

    def send(self, messages: Sequence[NotificationRecord]) -> list[Outcome]:
        if not messages:
            return []
        try:
            client = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            error = f"smtp connect: {type(exc).__name__}: {exc}"[:300]
            log.warning("smtp relay unreachable", extra={"error": error})
            return [Outcome(error=error) for _ in messages]
        outcomes: list[Outcome] = []
        try:
            for item in messages:
                outcomes.append(self._one(client, item))
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
        return outcomes

    def _one(self, client: smtplib.SMTP, item: NotificationRecord) -> Outcome:
        try:
            client.send_message(email_message(item, self.sender))
        except smtplib.SMTPException as exc:
            if isinstance(exc, smtplib.SMTPServerDisconnected):
                return Outcome(error="smtp: the server disconnected")
            return Outcome(error=f"smtp: {type(exc).__name__}", permanent=_permanent(exc))
        except OSError as exc:
            return Outcome(error=f"smtp: {type(exc).__name__}")
        log.info(
            "email sent",
            extra={
                "notification_id": item.id,
                "kind": item.kind,
                "to": rules.mask_destination(rules.EMAIL, item.destination),
            },
        )
        return Outcome()


class SandboxSmsSender:
    """Text messages that go nowhere but the sandbox inbox (and a log line
    with the masked number). A real provider replaces it in production."""

    def send(self, messages: Sequence[NotificationRecord]) -> list[Outcome]:
        for item in messages:
            log.info(
                "sms delivered to the sandbox inbox",
                extra={
                    "notification_id": item.id,
                    "kind": item.kind,
                    "to": rules.mask_destination(rules.SMS, item.destination),
                },
            )
        return [Outcome() for _ in messages]
