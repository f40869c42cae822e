"""The https session every Yahoo request goes through, built from the user's network settings.

Corporate users sit behind proxies that inspect TLS, so the proxy and the CA bundle come from the
config first and the usual environment variables second, and a failure to get through is reported
once, up front, with the setting to change.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from curl_cffi import requests as curl_requests
from curl_cffi.const import CurlECode

from kbgen.config import Config
from kbgen.sources import SourceError

PROXY_ENV = ("HTTPS_PROXY", "https_proxy")
CA_BUNDLE_ENV = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
PROBE_URL = "https://fc.yahoo.com"  # the first page yfinance asks for anyway (its cookie)


@dataclass(frozen=True)
class NetworkSettings:
    """Resolved settings; the `*_origin` fields say where a value came from, for error messages."""

    proxy: str | None
    proxy_origin: str
    verify: bool | str  # False, True (curl's own CA store) or the path of a CA bundle
    verify_origin: str
    timeout: float


def network_settings(config: Config, environ: Mapping[str, str] = os.environ) -> NetworkSettings:
    """Proxy: network.proxy, else HTTPS_PROXY / https_proxy. CA bundle: network.ca_bundle, else
    REQUESTS_CA_BUNDLE, else CURL_CA_BUNDLE; network.verify false turns verification off."""
    network = config.model.network
    proxy, proxy_origin = _first_setting("network.proxy", network.proxy, PROXY_ENV, environ)
    if not network.verify:
        return NetworkSettings(proxy, proxy_origin, False, "network.verify", network.timeout)
    ca_bundle = config.resolve(network.ca_bundle) if network.ca_bundle else None
    bundle, origin = _first_setting("network.ca_bundle", ca_bundle, CA_BUNDLE_ENV, environ)
    if bundle is None:
        return NetworkSettings(proxy, proxy_origin, True, "curl's built-in CA store", network.timeout)
    if not Path(bundle).is_file():
        raise SourceError(f"the CA bundle {bundle} (from {origin}) does not exist; fix {origin} or remove it")
    return NetworkSettings(proxy, proxy_origin, bundle, origin, network.timeout)


def _first_setting(key: str, configured, env_names: tuple[str, ...], environ: Mapping[str, str]) -> tuple[str | None, str]:
    """The configured value, else the first environment variable set; with where it came from."""
    if configured:
        return str(configured), key
    for name in env_names:
        if environ.get(name):
            return environ[name], f"the {name} environment variable"
    return None, ""


def open_session(settings: NetworkSettings) -> curl_requests.Session:
    """A browser-like session (Yahoo turns away clients that do not look like one).

    The proxy is always set, to "" (none) when there is no proxy setting: libcurl would otherwise
    pick proxies from variables `network_settings` deliberately does not read, and what the
    session does must be what the settings and their error messages say.
    """
    proxy = settings.proxy or ""
    return curl_requests.Session(
        impersonate="chrome",
        proxies={"http": proxy, "https": proxy},
        verify=settings.verify,
        timeout=settings.timeout,
    )


def check_reachable(session: curl_requests.Session, settings: NetworkSettings) -> None:
    """Raise SourceError when Yahoo cannot be reached at all; any HTTP answer counts as reachable.

    yfinance turns connection failures into per-ticker log lines ("possibly delisted"), so a wrong
    proxy would otherwise look like a universe of delisted tickers.
    """
    try:
        session.get(PROBE_URL, timeout=settings.timeout)
    except curl_requests.exceptions.RequestException as exc:
        raise SourceError(_hide_password(_explain(exc, settings), settings.proxy)) from None


def _hide_password(message: str, proxy: str | None) -> str:
    """`message` with the proxy URL's password replaced by *** (error messages end up in cron logs)."""
    if not proxy:
        return message
    credentials = urlsplit(proxy if "://" in proxy else f"//{proxy}").netloc.rpartition("@")[0]
    user, _, password = credentials.partition(":")
    return message.replace(f"{credentials}@", f"{user}:***@") if password else message


def _explain(exc: curl_requests.exceptions.RequestException, settings: NetworkSettings) -> str:
    code = getattr(exc, "code", None)
    proxy = settings.proxy
    if code in (CurlECode.COULDNT_RESOLVE_PROXY, CurlECode.COULDNT_CONNECT) and proxy:
        return f"cannot reach the proxy {proxy} (from {settings.proxy_origin}): {exc}. Fix {settings.proxy_origin}"
    if code in (CurlECode.RECV_ERROR, CurlECode.PROXY) and proxy:
        return f"the proxy {proxy} (from {settings.proxy_origin}) refused the connection to Yahoo: {exc}. Fix {settings.proxy_origin}"
    if code == CurlECode.SSL_CACERT_BADFILE:
        return f"cannot use the CA bundle {settings.verify} (from {settings.verify_origin}): {exc}. Fix {settings.verify_origin}"
    if code == CurlECode.PEER_FAILED_VERIFICATION:
        return (
            f"Yahoo's TLS certificate is not trusted with {settings.verify_origin}: {exc}. Behind a TLS-inspecting "
            "proxy, set network.ca_bundle to your company's CA file (or network.verify: false)"
        )
    if code == CurlECode.OPERATION_TIMEDOUT:
        return f"no answer from Yahoo within {settings.timeout:g} s: {exc}. Raise network.timeout or check the network"
    if not proxy:
        return f"cannot reach Yahoo Finance: {exc}. Behind a proxy, set network.proxy (or HTTPS_PROXY)"
    return f"cannot reach Yahoo Finance through {proxy}: {exc}. Check network.proxy and network.ca_bundle"
