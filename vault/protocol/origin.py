"""Serialised web origins (RFC 6454 section 6.2): `scheme://host[:port]`, nothing else.

Only https origins are accepted, except plain http on the loopback hosts for development. The
checks are strict on purpose: an origin is compared as a string (token `aud`, pairwise-key
derivation), so it must have one spelling.
"""

from __future__ import annotations

import ipaddress
import re

MAX_ORIGIN_LENGTH = 253 + len("https://") + len(":65535")

_ORIGIN = re.compile(
    r"(?P<scheme>https?)://(?P<host>\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(?P<port>[1-9][0-9]{0,4}))?"
)
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
_DEFAULT_PORTS = {"https": 443, "http": 80}


def origin_problem(origin: object) -> str | None:
    """Why `origin` is not an acceptable serialised origin, or None if it is."""
    if not isinstance(origin, str) or len(origin) > MAX_ORIGIN_LENGTH:
        return "not a string of at most 270 characters"
    match = _ORIGIN.fullmatch(origin)
    if match is None:
        return "not scheme://host[:port] in lower case (no path, no trailing slash)"
    scheme, host, port = match["scheme"], match["host"], match["port"]
    if port is not None and (int(port) > 65535 or int(port) == _DEFAULT_PORTS[scheme]):
        return "port out of range or the scheme's default port written out"
    if host.startswith("["):
        try:
            address = ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return "bad IPv6 address"
        if f"[{address.compressed}]" != host:
            return "IPv6 address not in its canonical (compressed, lower case) form"
    elif host.replace(".", "").isdigit():
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return "bad IPv4 address"
    elif len(host) > 253 or not all(_LABEL.fullmatch(label) for label in host.split(".")):
        return "bad host name (ASCII lower case labels, punycode for IDNs, no trailing dot)"
    if scheme == "http" and host not in _LOOPBACK_HOSTS:
        return "http is only allowed for localhost, 127.0.0.1 and [::1]"
    return None


def is_origin(origin: object) -> bool:
    return origin_problem(origin) is None


def same_origin_url(url: str, origin: str) -> bool:
    """Whether `url` is `origin` followed by an absolute path (no query or fragment)."""
    if not url.startswith(origin + "/"):
        return False
    path = url[len(origin) :]
    return re.fullmatch(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*", path) is not None
