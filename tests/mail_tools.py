"""A two-tool toolkit for side-effect tests: ``lookup`` (no side effect) and
``send_email`` (side effects, ``to`` sensitive), recording each mail it sends.

Import it as ``from mail_tools import mail_toolkit`` (tests/ is on sys.path).
"""

from __future__ import annotations

from foreplan.tools.tool import tool
from foreplan.tools.toolkit import Toolkit


def mail_toolkit(sent: list[dict]) -> Toolkit:
    @tool
    def lookup(name: str) -> str:
        """Look someone up.

        Args:
            name: who.
        """
        return f"notes on {name}"

    @tool(side_effects=True, sensitive=("to",))
    def send_email(to: str, subject: str, body: str) -> str:
        """Send an e-mail.

        Args:
            to: the recipient.
            subject: the subject.
            body: the text.
        """
        sent.append({"to": to, "subject": subject, "body": body})
        return "sent"

    return Toolkit([lookup, send_email])
