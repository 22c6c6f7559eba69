"""`python -m devhost.run`: serve a function app on 127.0.0.1 the way `func start` does."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

import uvicorn

from core.settings import load_local_file
from core.storage_connection import from_settings
from devhost.app_index import AppIndexError, HostConfig, load_function_app
from devhost.durable import webhooks
from devhost.durable.engine import DurableEngine
from devhost.durable.state import InstanceStore
from devhost.server import build_app


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--app-dir", default=".", help="folder holding function_app.py and host.json")
    parser.add_argument("--module", default="function_app", help="module that defines the app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7071)
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    app_dir = Path(args.app_dir).resolve()
    load_local_file(app_dir)
    config = HostConfig.load(app_dir)
    index = load_function_app(app_dir, args.module)

    store = await asyncio.to_thread(InstanceStore, from_settings().blob_service(), config.hub_name)
    engine = DurableEngine(index, store, activity_workers=config.max_concurrent_activities)
    base_url = f"http://{args.host}:{args.port}"
    # On SIGINT/SIGTERM uvicorn stops accepting, lets requests finish (a streaming one for at most a few
    # seconds) and runs the app's shutdown, which closes the engine. It then re-raises the signal to the
    # handlers it found: these, so that a requested stop ends the process normally (exit code 0).
    # Idle connections stay open 75 s (uvicorn's default is 5 s), so polling clients keep reusing theirs.
    app, timers = build_app(index, config, engine, base_url, webhooks.system_key())
    server = uvicorn.Server(uvicorn.Config(
        app, host=args.host, port=args.port, lifespan="on",
        log_config=None, access_log=False, timeout_graceful_shutdown=3, timeout_keep_alive=75))
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: setattr(server, "should_exit", True))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():  # could not bind, or failed to start: its exception says why
            serving.result()
            raise SystemExit(f"devhost could not serve on {base_url}")
        await asyncio.sleep(0.01)

    log = logging.getLogger("devhost")
    log.info("Functions:")
    for function in sorted(index.functions.values(), key=lambda f: f.name):
        if function.route is not None:
            methods = ",".join(sorted(function.methods)) if function.methods else "ALL"
            prefix = f"/{config.route_prefix}" if config.route_prefix else ""
            log.info("  %s: [%s] %s%s/%s", function.name, methods, base_url, prefix, function.route.template)
        elif function.schedule is not None:
            log.info("  %s: timerTrigger (%s)", function.name, function.schedule)
        else:
            log.info("  %s: %s", function.name, function.trigger_type)
    resumed = await engine.resume_in_flight()
    log.info("devhost listening on %s (task hub %s, %d in-flight orchestrations resumed)",
             base_url, config.hub_name, resumed)
    timers.start()
    await serving


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("DEVHOST_LOG_LEVEL", "INFO"),
                        format="[%(asctime)s] %(message)s", stream=sys.stderr)
    logging.getLogger("azure").setLevel(logging.WARNING)
    logging.getLogger("uvicorn").setLevel(logging.WARNING)  # devhost announces itself; one line per invocation
    try:
        asyncio.run(serve(parse_args(argv)))
    except AppIndexError as error:
        logging.getLogger("devhost").error("The function app could not be indexed: %s", error)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
