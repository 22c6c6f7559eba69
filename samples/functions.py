"""Functions the samples' clients run themselves when a run asks for them (`requires_action`).

This is the seed's pattern: the assistant declares a function, the model calls it, the
client runs it and submits its output. Unlike the seed — which told the model "Email
sent" whatever happened — every function here reports what really happened, as JSON
the model can relay: a price with its date, or an error; a Logic App's acceptance, or
its refusal.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Callable

import requests

ClientFunction = Callable[[dict[str, Any]], str]
EMAIL_TIMEOUT_SECONDS = 30

GET_STOCK_PRICE = {"type": "function", "function": {
    "name": "get_stock_price",
    "description": "The latest closing price of a stock by its ticker symbol.",
    "parameters": {"type": "object", "properties": {
        "symbol": {"type": "string", "description": "The stock's ticker symbol, e.g. MSFT"}},
        "required": ["symbol"]}}}

SEND_EMAIL = {"type": "function", "function": {
    "name": "send_email",
    "description": "Send an e-mail to one or more recipients.",
    "parameters": {"type": "object", "properties": {
        "to": {"type": "string", "description": "Recipient address(es), separated by ;"},
        "content": {"type": "string", "description": "The body of the e-mail."}},
        "required": ["to", "content"]}}}


def price_history(symbol: str) -> Any:
    """The last days' daily bars from Yahoo Finance: the samples' one call into yfinance."""
    import yfinance  # imported here: only the Personal Finance sample needs it

    yfinance.config.debug.hide_exceptions = False  # an outage should reach the model, not a log line
    return yfinance.Ticker(symbol).history(period="5d", interval="1d", timeout=10)


def latest_close(symbol: str, bars: Any) -> dict[str, Any]:
    """The last close in yfinance's daily bars (a weekend gives Friday's), or why there is none."""
    closes = bars["Close"].dropna() if bars is not None and not bars.empty and "Close" in bars else None
    if closes is None or closes.empty or not math.isfinite(float(closes.iloc[-1])):
        return {"error": f"no price data for {symbol}: unknown or delisted symbol"}
    return {"symbol": symbol, "close": round(float(closes.iloc[-1]), 2),
            "date": closes.index[-1].date().isoformat()}


def get_stock_price(arguments: dict[str, Any]) -> str:
    symbol = str(arguments.get("symbol") or "").strip().upper()
    if not symbol:
        return json.dumps({"error": "missing required argument: symbol"})
    try:
        bars = price_history(symbol)
    except Exception as error:  # noqa: BLE001 - any failure of Yahoo becomes an answer the model can relay
        return json.dumps({"error": f"Yahoo Finance could not give a price for {symbol} ({type(error).__name__})"})
    return json.dumps(latest_close(symbol, bars))


def email_outcome(status: int) -> dict[str, Any]:
    """What a Logic App's HTTP status means for the e-mail: only a 2xx is success."""
    if status == 202:
        return {"status": "accepted", "detail": "the Logic App accepted the e-mail for delivery"}
    if 200 <= status < 300:
        return {"status": "sent"}
    return {"error": f"the e-mail was not sent: the Logic App answered HTTP {status}"}


def send_email(arguments: dict[str, Any]) -> str:
    """Post the e-mail to the Logic App at EMAIL_URI (the seed's setting), as the seed's notebook did.

    Takes the seed's (to, content) and the server tool's (to, subject, body) alike, so an
    assistant that opted into the server tool on a deployment that has not enabled it still
    gets its e-mail sent from here."""
    to = str(arguments.get("to") or "").strip()
    content = str(arguments.get("content") or arguments.get("body") or "")
    if not to or not content:
        return json.dumps({"error": "missing required argument(s): to and content"})
    url = (os.environ.get("EMAIL_URI") or "").strip()
    if not url:
        return json.dumps({"error": "the e-mail was not sent: no Logic App is configured (EMAIL_URI is unset)"})
    payload = {"to": to, "content": content}
    if arguments.get("subject"):
        payload["subject"] = str(arguments["subject"])
    try:
        response = requests.post(url, json=payload, timeout=EMAIL_TIMEOUT_SECONDS)
    except requests.RequestException as error:
        return json.dumps({"error": f"the e-mail was not sent: the Logic App could not be reached "
                                    f"({type(error).__name__})"})
    return json.dumps(email_outcome(response.status_code))


CLIENT_FUNCTIONS: dict[str, ClientFunction] = {"get_stock_price": get_stock_price, "send_email": send_email}
