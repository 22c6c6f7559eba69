"""get_stock_price: the latest daily close of a ticker, from Yahoo Finance through yfinance.

yfinance is called at one boundary, `yahoo_history`, which returns the last days' daily
bars and the chart metadata; everything else is a pure mapping of what it returned or
raised to an answer or a clear error the model can relay: an unknown or delisted symbol
(yfinance's empty frame or missing-prices error), a rate limit, Yahoo unreachable. When
the market is closed the answer is the last close with its date.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

from tools.registry import ServerTool, ToolError, register

YAHOO_TIMEOUT_SECONDS = 10.0
_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-=^]{0,19}|\^[A-Za-z0-9.\-=]{1,19}")

History = Callable[[str], tuple[Any, dict]]  # symbol -> (pandas DataFrame of daily bars, metadata)


def yahoo_history(symbol: str) -> tuple[Any, dict]:
    """The last five days' daily bars from Yahoo, with yfinance raising rather than logging errors."""
    import yfinance  # imported here: a cold start that never prices a stock does not pay for it

    yfinance.config.debug.hide_exceptions = False  # we want the error to tell the model, not a log line
    ticker = yfinance.Ticker(symbol)
    frame = ticker.history(period="5d", interval="1d", timeout=YAHOO_TIMEOUT_SECONDS)
    try:
        metadata = dict(ticker.get_history_metadata() or {})  # loaded by history(): currency, exchange
    except Exception:  # noqa: BLE001 - the price stands without its currency
        metadata = {}
    return frame, metadata


def normalized_symbol(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ToolError("missing required argument: symbol")
    symbol = value.strip().upper()
    if not _SYMBOL.fullmatch(symbol):
        raise ToolError(f"{value!r} is not a ticker symbol (letters, digits and . - = ^, e.g. MSFT, BRK-B, ^GSPC)")
    return symbol


def latest_close(symbol: str, frame: Any, metadata: dict) -> dict[str, Any]:
    """The last row with a close, as the model reads it; an empty frame means no such symbol."""
    closes = frame["Close"].dropna() if frame is not None and not frame.empty and "Close" in frame else None
    if closes is None or closes.empty:
        raise ToolError(f"no price data for {symbol}: the symbol is unknown or delisted on Yahoo Finance")
    close = float(closes.iloc[-1])
    if not math.isfinite(close):
        raise ToolError(f"Yahoo Finance returned no usable price for {symbol}")
    answer = {"symbol": symbol, "close": round(close, 4), "date": closes.index[-1].date().isoformat()}
    if metadata.get("currency"):
        answer["currency"] = metadata["currency"]
    if metadata.get("exchangeName"):
        answer["exchange"] = metadata["exchangeName"]
    return answer


def describe_failure(symbol: str, error: Exception) -> ToolError:
    """yfinance's exceptions (and its HTTP client's) as errors the model can relay."""
    from yfinance import exceptions as yf_errors

    if isinstance(error, yf_errors.YFTickerMissingError):
        return ToolError(f"no price data for {symbol}: the symbol is unknown or delisted on Yahoo Finance")
    if isinstance(error, yf_errors.YFRateLimitError):
        return ToolError("Yahoo Finance is rate limiting this service; try again in a minute")
    return ToolError(f"Yahoo Finance could not be reached ({type(error).__name__}); try again later")


def get_stock_price(arguments: dict[str, Any], history: History = yahoo_history) -> dict[str, Any]:
    """The tool; `history` is the boundary to yfinance, replaced in tests."""
    symbol = normalized_symbol(arguments.get("symbol"))
    try:
        frame, metadata = history(symbol)
    except Exception as error:  # noqa: BLE001 - every failure of the data source becomes a readable error
        raise describe_failure(symbol, error) from None
    return latest_close(symbol, frame, metadata)


register(ServerTool(
    name="get_stock_price",
    description="The latest daily closing price of a stock, ETF or index by ticker symbol (Yahoo Finance); "
                "while the market is open, the latest price of today's bar.",
    parameters={"type": "object", "properties": {
        "symbol": {"type": "string", "description": "Ticker symbol, e.g. MSFT, BRK-B, ^GSPC"}},
        "required": ["symbol"]},
    run=get_stock_price, timeout_seconds=YAHOO_TIMEOUT_SECONDS + 5))
