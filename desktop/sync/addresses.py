"""The head hospital's address as people type it: whether the connection to it is unencrypted.

Packages and answers are sealed either way; plain `http://` to another computer still shows who
talks to whom and when, so the window and the log say so. Loopback (this computer) stays quiet.
Standard library only: the window imports it when the page is built.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

PLAIN_HTTP_WARNING = "与总院的连接未加密（http），数据包已加密封装，但建议使用 https"


def is_loopback_host(host: str) -> bool:
    """True for this computer: localhost, 127.0.0.0/8 or ::1."""
    host = host.strip().strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost: not known to be this computer


def plain_http_warning(url: str) -> str | None:
    """The warning for an `http://` address that is not this computer; None for https or loopback."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:
        return None  # not an address at all: the form says so when it is submitted
    if parts.scheme.lower() != "http" or not host or is_loopback_host(host):
        return None
    return f"{PLAIN_HTTP_WARNING}（{parts.scheme}://{parts.netloc}）。"
