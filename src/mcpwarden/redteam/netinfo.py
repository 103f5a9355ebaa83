"""This machine's own non-loopback addresses, read from its interfaces (Linux), never from the network."""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
import sys
from contextlib import suppress
from pathlib import Path

_SIOCGIFADDR = 0x8915


def _ipv4_of(name: str) -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, suppress(OSError):
        packed = fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
        return socket.inet_ntoa(packed[20:24])
    return None


def _ipv6_addresses() -> list[str]:
    path = Path("/proc/net/if_inet6")
    out: list[str] = []
    with suppress(OSError):
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 6:
                out.append(str(ipaddress.IPv6Address(bytes.fromhex(fields[0]))))
    return out


def local_addresses() -> list[str] | None:
    """Global or private unicast addresses of this machine's interfaces; None when they cannot be read.

    Loopback and link-local addresses are left out: they say nothing about exposure to other hosts
    (or need a scope to be used).
    """
    if not sys.platform.startswith("linux"):
        return None
    candidates: list[str] = []
    with suppress(OSError):
        for _, name in socket.if_nameindex():
            if (found := _ipv4_of(name)) is not None:
                candidates.append(found)
    candidates += _ipv6_addresses()
    out = []
    for text in candidates:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(text)
        if not (address.is_loopback or address.is_link_local or address.is_multicast or address.is_unspecified):
            out.append(text)
    return sorted(set(out))
