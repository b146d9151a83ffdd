"""Which URLs a tenant record (and the bridge's own public URL) may name.

The bridge calls a tenant's ``killbill_url`` and ``hs_base_url`` with the tenant's credentials, so a
tenant record must not turn it into a tool for reaching internal addresses (cloud metadata at
169.254.169.254, databases on 10.x, admin consoles on localhost). A URL is accepted when:

- it uses ``https`` and its host is, and resolves only to, public addresses; or
- its host is on the deployment's ``allowed_internal_hosts`` (a name, an address or a network, e.g. a
  self-hosted Kill Bill on the internal network), over ``http`` or ``https``; or
- it points at loopback and the development flag ``allow_http_loopback`` is on (simulators, demos).

Credentials in a URL (``https://user:pass@…``) are refused: they would be stored in clear.
The check runs when a URL is accepted; the address a name resolves to later is the network's business
(an egress firewall is the complete control).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bridge.errors import BadRequest

__all__ = ["UnsafeUrl", "UrlPolicy", "parse_internal_hosts"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_FLAG = "allow_http_loopback (BRIDGE_ALLOW_HTTP_LOOPBACK=true, for development only)"


class UnsafeUrl(BadRequest):
    error = "unsafe_url"


def resolve(host: str) -> list[Address]:
    """Every address ``host`` resolves to; an empty list when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _address(text: str) -> Address:
    address = ipaddress.ip_address(text)
    # ::ffff:10.0.0.1 reaches 10.0.0.1: judge the IPv4 address it carries.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_internal_hosts(values: Iterable[str]) -> tuple[frozenset[str], tuple[Network, ...]]:
    """Split ``allowed_internal_hosts`` into host names and networks (an address is a /32 or /128)."""
    names: set[str] = set()
    networks: list[Network] = []
    for value in values:
        item = value.strip().lower()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            if not all(part and part.replace("-", "").replace("_", "").isalnum() for part in item.split(".")):
                raise ValueError(f"{value!r} is neither a host name nor an address or network") from None
            names.add(item)
    return frozenset(names), tuple(networks)


@dataclass(frozen=True)
class UrlPolicy:
    allow_http_loopback: bool = False
    internal_names: frozenset[str] = frozenset()
    internal_networks: tuple[Network, ...] = ()
    resolver: Callable[[str], list[Address]] = field(default=resolve, compare=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Any) -> UrlPolicy:
        names, networks = parse_internal_hosts(settings.allowed_internal_hosts)
        return cls(settings.allow_http_loopback, names, networks)

    @classmethod
    def from_environment(cls) -> UrlPolicy:
        """The policy of the deployment's settings (environment and TOML file)."""
        from bridge.settings import load_settings

        return cls.from_settings(load_settings())

    def check(self, url: str, *, what: str, resolve_names: bool = True) -> None:
        """Raise ``UnsafeUrl`` naming ``what`` unless ``url`` may be called.

        ``resolve_names=False`` judges a host name by itself (only ``localhost`` names are known to be
        loopback); for the bridge's own public URL, checked at start-up without the network.
        """
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        if scheme not in ("http", "https") or not host:
            raise UnsafeUrl(f"{what}: must be an https:// URL with a host")
        if parts.username is not None or parts.password is not None:
            raise UnsafeUrl(f"{what}: must not carry credentials (user:password@); they would be stored in clear")
        if host in self.internal_names:
            return
        addresses = [] if host in _LOOPBACK_NAMES else self._addresses(host, what, resolve_names)
        if addresses and all(self._internal(a) for a in addresses):
            return
        if host in _LOOPBACK_NAMES or (addresses and all(a.is_loopback for a in addresses)):
            if self.allow_http_loopback:
                return
            raise UnsafeUrl(f"{what}: {host} is a loopback address; allowed only with {_FLAG}")
        for address in addresses:
            if not address.is_global:
                raise UnsafeUrl(f"{what}: {host} is a private, link-local or reserved address ({address}); "
                                "add it to allowed_internal_hosts (BRIDGE_ALLOWED_INTERNAL_HOSTS) if the "
                                "deployment means to reach it")
        if scheme != "https":
            raise UnsafeUrl(f"{what}: must use https (http only to loopback with {_FLAG}, or to "
                            "allowed_internal_hosts)")

    def _addresses(self, host: str, what: str, resolve_names: bool) -> list[Address]:
        try:
            return [_address(host.strip("[]"))]
        except ValueError:
            pass
        if not resolve_names:
            return []
        addresses = [_address(str(a)) for a in self.resolver(host)]
        if not addresses:
            raise UnsafeUrl(f"{what}: the host {host} does not resolve, so where it points cannot be checked")
        return addresses

    def _internal(self, address: Address) -> bool:
        return any(address in network for network in self.internal_networks)
