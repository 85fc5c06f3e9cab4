"""Job e-mail (production-system.md §3.2, D-6): at most one digest per run, when it ends.

Transports: ``log`` (the default: messages go to the log and an in-memory outbox, so
development never sends real mail) and ``smtp``. A delivery failure never fails the job.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol

__all__ = ["LogTransport", "Mail", "SmtpTransport", "Transport", "compose_digest", "should_send"]

log = logging.getLogger("isrender.mail")
MAX_LINES = 200


@dataclass(frozen=True)
class Mail:
    recipient: str
    subject: str
    body: str
    outcome: str
    locale: str = ""


class Transport(Protocol):
    def send(self, mail: Mail, sender: str) -> None: ...


@dataclass
class LogTransport:
    outbox: list[Mail] = field(default_factory=list)

    def send(self, mail: Mail, sender: str) -> None:
        self.outbox.append(mail)
        log.info("mail to %s: %s", mail.recipient, mail.subject)


@dataclass
class SmtpTransport:
    host: str
    port: int = 25
    timeout: float = 10.0

    def send(self, mail: Mail, sender: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = sender, mail.recipient, mail.subject
        if mail.locale:
            message["Content-Language"] = mail.locale
        message.set_content(mail.body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(message)


def should_send(setting: str, errors: bool, warnings: bool) -> bool:
    """§3.2: All and JobCompletion always; Error on errors; ErrorAndWarning on either."""
    if setting in ("All", "JobCompletion"):
        return True
    if setting == "Error":
        return errors
    if setting == "ErrorAndWarning":
        return errors or warnings
    return False


def compose_digest(
    setting: str,
    job_name: str,
    outcome: str,
    summary: list[str],
    problems: list[tuple[str, str]],  # (severity, line)
    link: str | None,
    recipient: str,
    locale: str = "",
) -> Mail:
    lines = [f'Export job "{job_name}": {outcome}', "", *summary]
    wanted = {"All": ("error", "warning"), "Error": ("error",),
              "ErrorAndWarning": ("error", "warning")}.get(setting, ())  # fmt: skip
    listed = [line for severity, line in problems if severity in wanted]
    if listed:
        lines += ["", "Problems:"] + [f"  {line}" for line in listed[:MAX_LINES]]
        if len(listed) > MAX_LINES:
            lines.append(f"  ...and {len(listed) - MAX_LINES} more (see the job log)")
    if link:
        lines += ["", f"Download: {link}"]
    subject = f'[IPS] Export job "{job_name}" {outcome}'
    return Mail(recipient, subject, "\n".join(lines) + "\n", outcome, locale)
