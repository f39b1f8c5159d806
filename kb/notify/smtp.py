"""Sending through SMTP, as KB_SMTP_URL says: ``smtp://user:pass@host:587`` (STARTTLS: used whenever the
server offers it, required when the URL holds credentials) or ``smtps://user:pass@host:465`` (TLS from the
first byte). One connection per run, opened at the first e-mail. No Flask."""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from ..errors import ConfigError

TIMEOUT = 30
SendFailure = (smtplib.SMTPException, OSError)  # what a failed delivery raises; it is retried next run
# the server answered, and refused this one e-mail: the next ones may still go in this run
Refused = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused)


class SmtpTransport:
    def __init__(self, url: str, timeout: float = TIMEOUT):
        try:
            parts = urlsplit(str(url or ""))
            port = parts.port
        except ValueError:
            parts, port = None, None
        if parts is None or parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigError("KB_SMTP_URL must be like smtp://user:password@host:587 (STARTTLS) or "
                              "smtps://user:password@host:465 (TLS); it is not set, or not such a URL.")
        self.implicit_tls = parts.scheme == "smtps"
        self.host, self.port = parts.hostname, port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else ""
        self.timeout = timeout
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.implicit_tls:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            conn.ehlo()
            if not self.implicit_tls:
                if conn.has_extn("starttls"):
                    conn.starttls(context=context)
                    conn.ehlo()
                elif self.username:
                    raise smtplib.SMTPNotSupportedError("the server offers no STARTTLS; kb will not send a "
                                                        "password in clear (use smtps://)")
            if self.username:
                conn.login(self.username, self.password)
        except BaseException:
            conn.close()
            raise
        return conn

    def send(self, message: EmailMessage) -> None:
        """Hand one e-mail to the server; returns once the server has accepted it, raises otherwise."""
        if self._conn is None:
            self._conn = self._connect()
        try:
            refused = self._conn.send_message(message)
        except BaseException:
            self.close()  # the connection's state is unknown: the next e-mail starts a new one
            raise
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except SendFailure:
                self._conn.close()
            self._conn = None
