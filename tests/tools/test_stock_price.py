"""get_stock_price: what yfinance returns or raises, mapped to a price or a clear error.

yfinance cannot be pointed at a local server, so it is replaced at the library's boundary
(`history`, the function that returns the daily bars): the frames and exceptions below are the
shapes yfinance 1.x produces.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import requests
from yfinance import exceptions as yf_errors

from tools import registry, stock
from tools.registry import ToolError

META = {"currency": "USD", "exchangeName": "NMS", "symbol": "MSFT"}


def bars(*rows: tuple[str, float | None]) -> pd.DataFrame:
    """Daily bars as yfinance returns them: a tz-aware DatetimeIndex and OHLCV columns."""
    index = pd.DatetimeIndex([pd.Timestamp(day, tz="America/New_York") for day, _ in rows], name="Date")
    closes = [close for _, close in rows]
    return pd.DataFrame({"Open": closes, "High": closes, "Low": closes, "Close": closes,
                         "Volume": [1000] * len(rows), "Dividends": 0.0, "Stock Splits": 0.0}, index=index)


def history_of(frame: pd.DataFrame | None = None, metadata: dict | None = None, error: Exception | None = None):
    calls = []

    def history(symbol: str):
        calls.append(symbol)
        if error is not None:
            raise error
        return frame, metadata or {}

    history.calls = calls
    return history


def test_the_latest_close_with_its_date_and_currency():
    history = history_of(bars(("2026-11-18", 501.2), ("2026-11-19", 503.456789)), META)
    assert stock.get_stock_price({"symbol": " msft "}, history=history) == {
        "symbol": "MSFT", "close": 503.4568, "date": "2026-11-19", "currency": "USD", "exchange": "NMS"}
    assert history.calls == ["MSFT"]


def test_market_closed_gives_the_last_close_and_its_date():
    """On a weekend the last bar is Friday's; a trailing row without a close (holiday) is skipped."""
    frame = bars(("2026-11-19", 500.0), ("2026-11-20", 502.5), ("2026-11-23", None))
    answer = stock.get_stock_price({"symbol": "MSFT"}, history=history_of(frame, META))
    assert (answer["close"], answer["date"]) == (502.5, "2026-11-20")


def test_without_metadata_the_price_stands_alone():
    answer = stock.get_stock_price({"symbol": "BRK-B"}, history=history_of(bars(("2026-11-20", 480.0))))
    assert answer == {"symbol": "BRK-B", "close": 480.0, "date": "2026-11-20"}


@pytest.mark.parametrize("frame", [pd.DataFrame(), bars(("2026-11-20", None)), None])
def test_an_empty_frame_means_an_unknown_symbol(frame):
    with pytest.raises(ToolError, match="no price data for NOPE: the symbol is unknown or delisted"):
        stock.get_stock_price({"symbol": "nope"}, history=history_of(frame))


@pytest.mark.parametrize("error, message", [
    (yf_errors.YFPricesMissingError("NOPE", "(period=5d)"), "the symbol is unknown or delisted"),
    (yf_errors.YFTzMissingError("NOPE"), "the symbol is unknown or delisted"),
    (yf_errors.YFRateLimitError(), "rate limiting"),
    (requests.ConnectionError("Max retries exceeded"), "Yahoo Finance could not be reached (ConnectionError)"),
    (TimeoutError("read timed out"), "Yahoo Finance could not be reached (TimeoutError)"),
    (yf_errors.YFDataException("*** YAHOO! FINANCE IS CURRENTLY DOWN! ***"), "could not be reached"),
])
def test_yfinance_failures_become_clear_errors(error, message):
    with pytest.raises(ToolError, match=re.escape(message)):
        stock.get_stock_price({"symbol": "NOPE"}, history=history_of(error=error))


def test_curl_errors_of_yfinances_http_client_are_unreachable_errors():
    from curl_cffi.requests.exceptions import ConnectionError as CurlConnectionError

    with pytest.raises(ToolError, match="could not be reached"):
        stock.get_stock_price({"symbol": "MSFT"}, history=history_of(error=CurlConnectionError("resolve failed")))


@pytest.mark.parametrize("symbol", ["", "   ", None, 42, "MSFT; DROP", "../etc", "A" * 30, "ms ft"])
def test_what_is_not_a_symbol_is_refused_before_any_call(symbol):
    history = history_of(bars(("2026-11-20", 1.0)))
    with pytest.raises(ToolError):
        stock.get_stock_price({"symbol": symbol}, history=history)
    assert history.calls == []


@pytest.mark.parametrize("symbol", ["MSFT", "BRK.B", "BRK-B", "^GSPC", "EURUSD=X", "7203.T"])
def test_symbols_of_every_kind_pass(symbol):
    assert stock.normalized_symbol(symbol) == symbol.upper()


def test_a_failing_lookup_through_the_registry_is_an_output_not_a_crash(monkeypatch):
    monkeypatch.setenv("SERVER_TOOLS_ENABLED", "get_stock_price")
    output = json.loads(registry.execute("get_stock_price", json.dumps({"symbol": "MSFT; rm"})))
    assert "is not a ticker symbol" in output["error"]


def test_the_real_yfinance_boundary_reports_an_unreachable_yahoo(monkeypatch):
    """yfinance itself, with its HTTP client sent to a closed loopback port: the error surfaces
    (our boundary turns yfinance's swallow-and-log off) and reads as 'could not be reached'."""
    import yfinance

    monkeypatch.setattr(yfinance.config.network, "proxy", "http://127.0.0.1:9")
    with pytest.raises(ToolError, match="Yahoo Finance could not be reached"):
        stock.get_stock_price({"symbol": "MSFT"})
