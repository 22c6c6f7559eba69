"""`python -m scripted_model`: run the stand-in model for offline demos."""

from __future__ import annotations

import argparse
import asyncio

from .script import Script
from .server import start

_BANNER = """\
================================================================================
 SCRIPTED MODEL - an OFFLINE STAND-IN for a real model. It cannot reason:
 it echoes your last message ("Echo: ...") unless replies were scripted via
 POST {root}/_scripted/replies (see scripted_model/client.py).

 Point the app at it with:
   OPENAI_BASE_URL={base_url}
   OPENAI_API_KEY=anything
================================================================================"""


async def _serve(host: str, port: int, latency_ms: float) -> None:
    script = Script()
    script.set_default(latency_ms=latency_ms)
    serving, base_url = await start(script, host, port)
    print(_BANNER.format(root=base_url[: -len("/v1")], base_url=base_url), flush=True)
    await serving.wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m scripted_model", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--latency-ms", type=float, default=0,
                        help="delay before every answer, to make demos feel like a model")
    args = parser.parse_args()
    try:
        asyncio.run(_serve(args.host, args.port, args.latency_ms))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
