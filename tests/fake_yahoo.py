"""A fake Yahoo Finance reachable only through an https proxy on 127.0.0.1.

The server accepts HTTP ``CONNECT`` like a corporate proxy, then speaks TLS inside the tunnel with
a throwaway certificate, so the real yfinance (through curl_cffi) talks to it exactly as it talks
to Yahoo. It answers the cookie and crumb dance and ``/v8/finance/chart/SYM`` from a scripted
per-symbol price table, can fail per symbol on purpose, and records every request it sees. The
quote lookups yfinance makes for a symbol without a timezone get Yahoo's answers for an unknown
symbol.
"""
from __future__ import annotations

import datetime as dt
import http.server
import json
import socketserver
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

YAHOO_HOSTS = (
    "fc.yahoo.com",
    "query1.finance.yahoo.com",
    "query2.finance.yahoo.com",
    "finance.yahoo.com",
    "guce.yahoo.com",
)
CRUMB = "fakeCrumb123"
EXCHANGE_TZ = ZoneInfo("America/New_York")
DELISTED_REASON = "No data found, symbol may be delisted"

# Failure modes a test can script for a symbol's chart requests.
NOT_FOUND = "not_found"
RATE_LIMITED = "rate_limited"
MALFORMED = "malformed"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate (and its key) valid for Yahoo's hosts; returns (cert, key)."""
    cert, key = folder / "fake-yahoo.pem", folder / "fake-yahoo.key"
    names = ",".join(f"DNS:{host}" for host in YAHOO_HOSTS)
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=fake yahoo for kbgen tests",
            "-keyout", str(key), "-out", str(cert),
            "-addext", f"subjectAltName={names}",
            "-addext", "basicConstraints=critical,CA:TRUE",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass(frozen=True)
class Bar:
    """One daily bar as the fake serves it."""

    day: dt.date
    open: float
    high: float
    low: float
    close: float
    adj_close: float
    volume: int


@dataclass(frozen=True)
class Request:
    """One request seen by the fake: `tunnel` is the CONNECT target it came through (None if direct)."""

    method: str
    host: str
    path: str
    query: dict[str, str]
    tunnel: str | None

    @property
    def symbol(self) -> str | None:
        prefix = "/v8/finance/chart/"
        return self.path[len(prefix):] if self.path.startswith(prefix) else None


@dataclass
class _Script:
    bars: dict[str, list[Bar]] = field(default_factory=dict)
    failures: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    profiles: dict[str, dict] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    connects: list[str] = field(default_factory=list)


class FakeYahoo:
    """The running fake: script it with `serve` and `fail`, then read `requests`."""

    def __init__(self, cert: Path, key: Path):
        self._lock = threading.Lock()
        self._script = _Script()
        self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._tls.load_cert_chain(cert, key)
        self._tls.set_alpn_protocols(["http/1.1"])  # keep curl off HTTP/2, which this server does not speak
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-yahoo", daemon=True)

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FakeYahoo":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self._script = _Script()

    def serve(self, symbol: str, bars: list[Bar]) -> None:
        with self._lock:
            self._script.bars[symbol] = sorted(bars, key=lambda bar: bar.day)

    def profile(self, symbol: str, name: str, sector: str | None, quote_type: str = "EQUITY") -> None:
        """Answer quoteSummary for the symbol (what `yf.Ticker(symbol).info` reads) with this company."""
        modules = {"quoteType": {"symbol": symbol, "quoteType": quote_type, "longName": name, "shortName": name[:20]}}
        if sector is not None:
            modules["assetProfile"] = {"sector": sector, "industry": "Fake Industry"}
        with self._lock:
            self._script.profiles[symbol] = modules

    def fail(self, symbol: str, mode: str, times: int | None = None) -> None:
        """Answer the symbol's next `times` chart requests (all of them if None) with a failure."""
        with self._lock:
            self._script.failures[symbol] = (mode, times)

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._script.requests)

    @property
    def connects(self) -> list[str]:
        with self._lock:
            return list(self._script.connects)

    def chart_requests(self, symbol: str, history_only: bool = True) -> list[Request]:
        """Chart requests for a symbol; `history_only` skips yfinance's `range=1d` timezone probes."""
        return [
            r for r in self.requests
            if r.symbol == symbol and not (history_only and "range" in r.query)
        ]

    # -- called from the handler threads -------------------------------------------------------

    def _record(self, request: Request) -> None:
        with self._lock:
            self._script.requests.append(request)

    def _record_connect(self, target: str) -> None:
        with self._lock:
            self._script.connects.append(target)

    def _profile(self, symbol: str) -> dict | None:
        with self._lock:
            return self._script.profiles.get(symbol)

    def _take_failure(self, symbol: str) -> str | None:
        with self._lock:
            mode, times = self._script.failures.get(symbol, (None, None))
            if mode is None:
                return None
            if times is not None:
                if times <= 0:
                    return None
                self._script.failures[symbol] = (mode, times - 1)
            return mode

    def _bars(self, symbol: str) -> list[Bar] | None:
        with self._lock:
            return self._script.bars.get(symbol)


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    fake: FakeYahoo


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    tunnel: str | None = None

    def log_message(self, format, *args) -> None:  # noqa: A002 - silence the default stderr log
        pass

    def do_CONNECT(self) -> None:
        self.server.fake._record_connect(self.path)
        self.send_response(200, "Connection Established")
        self.end_headers()
        self.wfile.flush()
        try:
            tls = self.server.fake._tls.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        # Keep serving requests on the decrypted tunnel with this same handler.
        self.tunnel = self.path
        self.connection = self.request = tls
        self.rfile = tls.makefile("rb")
        self.wfile = socketserver._SocketWriter(tls)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._answer("POST")

    def _answer(self, method: str) -> None:
        url = urlsplit(self.path)
        host = (url.hostname or self.headers.get("Host", "")).split(":")[0]
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        request = Request(method, host, url.path, query, self.tunnel)
        self.server.fake._record(request)
        if self.tunnel is None:
            self._send(502, "text/plain", b"this fake only serves https through CONNECT")
        elif host == "fc.yahoo.com":
            self._send(404, "text/html", b"<html>fc</html>", cookie=True)
        elif url.path == "/v1/test/getcrumb":
            self._send(200, "text/plain", CRUMB.encode())
        elif request.symbol:
            self._chart(request)
        elif url.path.startswith("/v10/finance/quoteSummary/"):
            symbol = url.path.rsplit("/", 1)[-1]
            profile = self.server.fake._profile(symbol)
            if profile:
                self._send_json(200, {"quoteSummary": {"result": [profile], "error": None}})
                return
            error = {"code": "Not Found", "description": f"Quote not found for symbol: {symbol}"}
            self._send_json(404, {"quoteSummary": {"result": None, "error": error}})
        elif url.path == "/v7/finance/quote":
            self._send_json(200, {"quoteResponse": {"result": [], "error": None}})
        elif url.path.startswith("/ws/fundamentals-timeseries/"):
            self._send_json(200, {"timeseries": {"result": [], "error": None}})
        else:
            self._send_json(404, {"finance": {"result": None, "error": {"code": "Not Found", "description": f"fake has no page {url.path}"}}})

    def _chart(self, request: Request) -> None:
        symbol = request.symbol
        bars = self.server.fake._bars(symbol)
        failure = self.server.fake._take_failure(symbol)
        if failure == RATE_LIMITED:
            self._send(429, "text/plain", b"Edge: Too Many Requests")
        elif failure == MALFORMED:
            self._send(200, "application/json", b'{"chart": {"result": [{"meta": ')
        elif failure == NOT_FOUND or bars is None:
            error = {"code": "Not Found", "description": DELISTED_REASON}
            self._send_json(404, {"chart": {"result": None, "error": error}})
        else:
            self._send_json(200, chart_payload(symbol, bars, request.query))

    def _send_json(self, status: int, payload: dict) -> None:
        self._send(status, "application/json", json.dumps(payload).encode())

    def _send(self, status: int, content_type: str, body: bytes, cookie: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if cookie:
            expires = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=365)).strftime("%a, %d %b %Y %H:%M:%S GMT")
            self.send_header("Set-Cookie", f"A3=d=fake&S=fake; Expires={expires}; Domain=.yahoo.com; Path=/; Secure; HttpOnly")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


def session_open(day: dt.date) -> int:
    """Unix time of 09:30 New York on `day`: where Yahoo stamps a daily bar."""
    return int(dt.datetime.combine(day, dt.time(9, 30), EXCHANGE_TZ).timestamp())


def chart_payload(symbol: str, bars: list[Bar], query: dict[str, str]) -> dict:
    """Yahoo's chart JSON for the bars inside [period1, period2), or the last bar for `range`."""
    if "period1" in query:
        first, last = int(query["period1"]), int(query.get("period2") or 2**40)
        chosen = [bar for bar in bars if first <= session_open(bar.day) < last]
    else:
        chosen = bars[-1:]
    now = int(dt.datetime.now(dt.timezone.utc).timestamp())
    period = {"timezone": "EDT", "gmtoffset": -14400}
    meta = {
        "currency": "USD", "symbol": symbol, "exchangeName": "NMS", "fullExchangeName": "NasdaqGS",
        "instrumentType": "EQUITY", "firstTradeDate": session_open(bars[0].day) if bars else None,
        "regularMarketTime": now, "hasPrePostMarketData": True, "gmtoffset": -14400, "timezone": "EDT",
        "exchangeTimezoneName": "America/New_York", "priceHint": 2, "dataGranularity": "1d", "range": "",
        "currentTradingPeriod": {
            part: {**period, "start": now - 3600, "end": now + 3600} for part in ("pre", "regular", "post")
        },
        "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
    }
    quote = {
        "open": [bar.open for bar in chosen],
        "high": [bar.high for bar in chosen],
        "low": [bar.low for bar in chosen],
        "close": [bar.close for bar in chosen],
        "volume": [bar.volume for bar in chosen],
    }
    result = {
        "meta": meta,
        "timestamp": [session_open(bar.day) for bar in chosen],
        "indicators": {"quote": [quote], "adjclose": [{"adjclose": [bar.adj_close for bar in chosen]}]},
    }
    return {"chart": {"result": [result], "error": None}}
