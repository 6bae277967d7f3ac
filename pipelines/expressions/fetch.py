"""What ``#fromUrl`` and friends may fetch, and the fetching itself.

Only http(s), only hosts an admin put on the allow-list (``SPINUI_EXPRESSION_URL_ALLOWLIST``,
empty by default). Every address a name resolves to is checked, the connection goes to the
checked address (so DNS cannot change its answer in between), and each redirect is checked
again. Link-local and cloud-metadata addresses are always refused; loopback and private
addresses only where an allow-list entry names that host or network *and* the port.

Allow-list entries: ``host``, ``host:port``, ``*.domain``, ``10.0.0.0/8:8080``, ``[::1]:8080``,
``[fd00::/8]:443``. A name entry matches the URL's host name; a network entry matches the
addresses it resolves to.
"""

import http.client
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from .errors import ExpressionError
from .limits import Limits

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud metadata services that are not already link-local (169.254.0.0/16, fe80::/10).
METADATA_NETWORKS = [
    ipaddress.ip_network(net)
    for net in ("fd00:ec2::254/128", "100.100.100.200/32", "192.0.0.192/32")
]
# Private-use ranges that Python does not call private.
EXTRA_PRIVATE = [ipaddress.ip_network(net) for net in ("100.64.0.0/10",)]
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


@dataclass(frozen=True)
class AllowEntry:
    host: str | None = None  # a name, or "*.domain"
    network: Network | None = None
    port: int | None = None

    def matches_name(self, host: str) -> bool:
        if self.host is None:
            return False
        if self.host.startswith("*."):
            return host.endswith(self.host[1:])
        return host == self.host

    def port_matches(self, port: int) -> bool:
        return self.port is None or self.port == port


def parse_allow_entry(text: str) -> AllowEntry:
    """One allow-list entry; an ImproperlyConfigured-style ValueError when malformed."""
    entry = text.strip().lower()
    port = None
    if entry.startswith("["):
        inside, _, rest = entry[1:].partition("]")
        if rest:
            port = _port(rest.removeprefix(":"), text)
        entry = inside
    elif entry.count(":") == 1:
        entry, port_text = entry.split(":")
        port = _port(port_text, text)
    try:
        return AllowEntry(network=ipaddress.ip_network(entry, strict=False), port=port)
    except ValueError:
        pass
    name = entry.removeprefix("*.")
    if not _HOST_NAME.match(name):
        raise ValueError(f"allow-list entry {text!r} is not a host name, address or network")
    return AllowEntry(host=entry, port=port)


def _port(text: str, entry: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"allow-list entry {entry!r} has an invalid port")
    return int(text)


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


@dataclass
class UrlPolicy:
    allowlist: list[AllowEntry] = field(default_factory=list)
    # Name resolution, replaceable in tests that need a name to resolve somewhere chosen.
    resolve: Callable[[str, int], list[str]] = _resolve

    @classmethod
    def from_strings(cls, entries: list[str], **kwargs) -> "UrlPolicy":
        return cls([parse_allow_entry(entry) for entry in entries], **kwargs)

    @classmethod
    def from_settings(cls) -> "UrlPolicy":
        from django.conf import settings

        try:
            return cls.from_strings(getattr(settings, "SPINUI_EXPRESSION_URL_ALLOWLIST", []))
        except ValueError as error:
            raise ExpressionError(f"SPINUI_EXPRESSION_URL_ALLOWLIST: {error}") from None

    def check(self, url: str) -> tuple[str, str, int, str, str]:
        """(scheme, host, port, address to connect to, path) for an allowed URL, else an error."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise ExpressionError(f"only http and https URLs may be fetched, not {url[:80]!r}")
        if "@" in parts.netloc or "\\" in url:
            raise ExpressionError("URLs with user names or backslashes are not fetched")
        try:
            host = (parts.hostname or "").lower().rstrip(".")
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise ExpressionError(f"the URL {url[:80]!r} is malformed") from None
        literal = _ip_literal(host)
        if literal is None and not _HOST_NAME.match(host):
            raise ExpressionError(f"{host[:80]!r} is not a valid host name")
        by_name = [
            entry
            for entry in self.allowlist
            if entry.matches_name(host) and entry.port_matches(port)
        ]
        if not self.allowlist:
            raise ExpressionError(
                "fetching URLs is off: no host is on SPINUI_EXPRESSION_URL_ALLOWLIST"
            )
        try:
            addresses = [literal] if literal else self.resolve(host, port)
        except (OSError, UnicodeError):
            raise ExpressionError(f"the host {host!r} cannot be resolved") from None
        if not addresses:
            raise ExpressionError(f"the host {host!r} cannot be resolved")
        for address_text in addresses:
            address = ipaddress.ip_address(address_text.split("%")[0])
            self._check_address(host, port, address, by_name)
        return scheme, host, port, addresses[0].split("%")[0], _path(parts)

    def _check_address(self, host: str, port: int, address: Address, by_name: list) -> None:
        for embedded in _embedded_ipv4(address):
            # Checked on its own too: 64:ff9b::a9fe:a9fe reaches 169.254.169.254 through NAT64.
            self._check_address(host, port, embedded, by_name)
        mapped = getattr(address, "ipv4_mapped", None)
        if mapped is not None:
            address = mapped
        if (
            address.is_link_local
            or any(address in net for net in METADATA_NETWORKS if net.version == address.version)
            or address.is_multicast
            or address.is_unspecified
            or (address.is_reserved and not address.is_loopback)
        ):
            raise ExpressionError(
                f"{host!r} resolves to {address}, a link-local, metadata, multicast, unspecified "
                "or reserved address; such addresses are never fetched"
            )
        by_network = [
            entry
            for entry in self.allowlist
            if entry.network is not None
            and entry.network.version == address.version
            and address in entry.network
            and entry.port_matches(port)
        ]
        inner = (
            address.is_loopback
            or address.is_private
            or any(address in net for net in EXTRA_PRIVATE if net.version == address.version)
        )
        if inner:
            if not any(entry.port == port for entry in by_name + by_network):
                raise ExpressionError(
                    f"{host!r} resolves to {address}, a loopback or private address; it is fetched "
                    "only when SPINUI_EXPRESSION_URL_ALLOWLIST names that host or network with "
                    f"port {port}"
                )
        elif not by_name and not by_network:
            raise ExpressionError(
                f"{host}:{port} is not on SPINUI_EXPRESSION_URL_ALLOWLIST, so it is not fetched"
            )


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (6to4, Teredo, NAT64), which it may reach."""
    if address.version != 6:
        return []
    found = [address.sixtofour] if address.sixtofour else []
    if address.teredo:
        found.extend(address.teredo)
    if address in NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _ip_literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _path(parts) -> str:
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to a checked address while verifying the certificate for the host name."""

    def __init__(self, address: str, host: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _read_capped(response, url: str, limits: Limits) -> bytes:
    # The socket timeout bounds each read; the deadline bounds a server that drips bytes.
    deadline = time.monotonic() + limits.url_timeout_seconds
    chunks: list[bytes] = []
    received = 0
    while chunk := response.read1(65536):
        received += len(chunk)
        if received > limits.url_max_bytes:
            raise ExpressionError(
                f"{url[:80]} sent more than {limits.url_max_bytes} bytes; not read further"
            )
        if time.monotonic() > deadline:
            raise ExpressionError(f"{url[:80]} took longer than {limits.url_timeout_seconds}s")
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str
    url: str


def send_request(
    method: str,
    url: str,
    policy: UrlPolicy,
    limits: Limits,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Reply:
    """One HTTP request to an allowed URL, following checked redirects for GET and HEAD;
    the answer's status, headers and text, within the limits. Webhook stages use it too."""
    for _ in range(limits.url_max_redirects + 1):
        scheme, host, port, address, path = policy.check(url)
        if scheme == "https":
            connection = _PinnedHTTPSConnection(address, host, port, limits.url_timeout_seconds)
        else:
            connection = http.client.HTTPConnection(
                address, port, timeout=limits.url_timeout_seconds
            )
        authority = f"[{host}]" if ":" in host else host
        if port not in (80, 443):
            authority = f"{authority}:{port}"
        sent = {"User-Agent": "spinui", **(headers or {}), "Host": authority}
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            if response.status in (301, 302, 303, 307, 308) and method in ("GET", "HEAD"):
                location = response.getheader("Location")
                if not location:
                    raise ExpressionError(f"{url[:80]} redirected without a Location")
                url = urljoin(url, location)
                continue
            raw = _read_capped(response, url, limits)
            charset = response.headers.get_content_charset() or "utf-8"
            try:
                text = raw.decode(charset, errors="replace")
            except LookupError:
                text = raw.decode("utf-8", errors="replace")
            return Reply(response.status, dict(response.headers.items()), text, url)
        except (OSError, http.client.HTTPException) as error:
            raise ExpressionError(f"fetching {url[:80]} failed: {error}") from None
        finally:
            connection.close()
    raise ExpressionError(f"{url[:80]} redirected more than {limits.url_max_redirects} times")


def fetch_text(url: str, policy: UrlPolicy, limits: Limits) -> str:
    """The body of ``url`` as text, following checked redirects, within the limits."""
    reply = send_request("GET", url, policy, limits)
    if reply.status >= 400:
        raise ExpressionError(f"{url[:80]} answered HTTP {reply.status}")
    return reply.text
