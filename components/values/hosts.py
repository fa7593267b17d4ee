"""Public hosts and URLs, known before any hub chart renders (one pass, no copied IPs)."""

import ipaddress
from dataclasses import dataclass


class HostnameAddressError(ValueError):
    """The ingress address is a DNS name (e.g. an AWS ELB), so no wildcard-DNS host exists."""


@dataclass(frozen=True)
class Hosts:
    binder: str
    hub: str
    tls: bool
    shape: str = "classic"  # service: BinderHub lives at <hub>/services/binder/

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def hub_url(self) -> str:
        return f"{self.scheme}://{self.hub}/"

    @property
    def binder_url(self) -> str:
        if self.shape == "service":
            return f"{self.hub_url}services/binder/"
        return f"{self.scheme}://{self.binder}/"

    @property
    def oauth_callback_url(self) -> str:
        """The hub's callback, to register in the GitHub / identity provider OAuth app."""
        return f"{self.hub_url}hub/oauth_callback"

    @property
    def binder_oauth_redirect_uri(self) -> str:
        """BinderHub's callback as the hub's OAuth client."""
        return f"{self.binder_url}oauth_callback"


def wildcard_host(label: str, address: str, wildcard_dns: str) -> str:
    """`<label>.<ip>.<wildcard dns>`, e.g. binder.203.0.113.10.nip.io resolves to 203.0.113.10."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise HostnameAddressError(
            f"the ingress address {address!r} is a hostname, not an IP, so no {wildcard_dns} host can "
            "be derived from it: set binderhub:domain and point a CNAME for binder.<domain> and "
            "hub.<domain> at that hostname"
        ) from None
    if ip.version == 6:
        # nip.io-style services encode IPv6 with dashes.
        return f"{label}.{ip.exploded.replace(':', '-')}.{wildcard_dns}"
    return f"{label}.{ip}.{wildcard_dns}"


def compute_hosts(
    *,
    domain: str | None,
    binder_host: str | None,
    hub_host: str | None,
    wildcard_dns: str,
    address: str | None,
    tls: bool,
    shape: str = "classic",
) -> Hosts:
    if binder_host and hub_host:
        return Hosts(binder_host, hub_host, tls, shape)
    if domain:
        return Hosts(f"binder.{domain}", f"hub.{domain}", tls, shape)
    if not address:
        raise ValueError("no domain, hosts or ingress address to derive the public hosts from")
    binder, hub = wildcard_host("binder", address, wildcard_dns), wildcard_host("hub", address, wildcard_dns)
    return Hosts(binder, hub, tls, shape)


def grafana_host(hub_host: str, explicit: str | None = None) -> str:
    """Grafana's public host: `explicit` (binderhub:hosts.grafana) when set, else `grafana.`
    and the hub's host without its first label: grafana.<domain> for hub.<domain>,
    grafana.<ip>.nip.io without a domain. The config refuses a hub host of fewer than three
    labels without `hosts.grafana` (grafana.<tld> would be outside the operator's domain)."""
    if explicit:
        return explicit
    _, _, rest = hub_host.partition(".")
    return f"grafana.{rest}" if rest else f"grafana.{hub_host}"
