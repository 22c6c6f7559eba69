"""`make run`: Azurite, the model (or its offline stand-in) and devhost, stopped together on Ctrl-C.

Azurite keeps its data under .azurite/ and is reused when something already
listens on its ports. When no model is configured (neither AZURE_OPENAI_ENDPOINT
nor OPENAI_BASE_URL, in the environment or local.settings.json), the scripted
model is started and announced as an offline stand-in that echoes and cannot reason.

Who may call: on loopback (the default) requests need no key and act as the one
local principal; bound to any other address, keys are required (AUTH_LOCAL_ANONYMOUS
is forced off), as in Azure. Either way the start-up banner says which.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from core.settings import load_local_file

ROOT = Path(__file__).resolve().parents[1]
AZURITE_PORTS = (10000, 10001, 10002)
SCRIPTED_MODEL_PORT = 8089


def playground_url(root_url: str, host_json: Path) -> str:
    """Where a host at `root_url` serves the playground (api/playground.py), under host.json's routePrefix."""
    http = json.loads(host_json.read_text(encoding="utf-8")).get("extensions", {}).get("http", {})
    prefix = http.get("routePrefix", "api").strip("/")  # the Functions host's default prefix is 'api'
    return f"{root_url.rstrip('/')}/{prefix + '/' if prefix else ''}playground/"


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until_listening(port: int, process: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start (exit code {process.poll()})")
        time.sleep(0.1)


def start_azurite(children: list[subprocess.Popen]) -> None:
    if all(listening(port) for port in AZURITE_PORTS):
        print("Azurite already listening on 10000-10002; reusing it.")
        return
    data = ROOT / ".azurite"
    data.mkdir(exist_ok=True)
    process = subprocess.Popen(
        [str(ROOT / "node_modules" / ".bin" / "azurite"), "--silent", "--disableTelemetry",
         "--skipApiVersionCheck", "--location", str(data)],
        cwd=ROOT)
    children.append(process)
    for port in AZURITE_PORTS:
        wait_until_listening(port, process, "Azurite")
    print(f"Azurite started (data in {data}).")


def start_scripted_model_if_no_model(children: list[subprocess.Popen]) -> None:
    if os.environ.get("AZURE_OPENAI_ENDPOINT") or os.environ.get("OPENAI_BASE_URL"):
        return
    base_url = f"http://127.0.0.1:{SCRIPTED_MODEL_PORT}/v1"
    if not listening(SCRIPTED_MODEL_PORT):
        process = subprocess.Popen([sys.executable, "-m", "scripted_model", "--port", str(SCRIPTED_MODEL_PORT)],
                                   cwd=ROOT)
        children.append(process)
        wait_until_listening(SCRIPTED_MODEL_PORT, process, "the scripted model")
    os.environ["OPENAI_BASE_URL"] = base_url
    if not os.environ.get("OPENAI_EMBEDDINGS_MODEL"):  # file_search: hybrid retrieval offline too
        os.environ["OPENAI_EMBEDDINGS_MODEL"] = "scripted-embeddings"
    os.environ.setdefault("OPENAI_API_KEY", "offline")
    print("\n*** No model configured: runs are answered by the OFFLINE scripted model, which echoes and "
          "cannot reason.\n*** Set AZURE_OPENAI_ENDPOINT or OPENAI_BASE_URL (+ OPENAI_API_KEY) in "
          "local.settings.json for a real model.\n")


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def access_banner(host: str, port: int) -> str:
    """Sets who may call for the devhost child (env) and says it."""
    url = f"http://{'127.0.0.1' if host == 'localhost' else host}:{port}"
    if is_loopback(host):
        os.environ["AUTH_LOCAL_ANONYMOUS"] = "true"
        return (f"Assistants API: {url}/v1 (and {url}/openai for AzureOpenAI) on loopback only: NO KEY NEEDED, "
                f"every caller is the local principal.\n  OpenAI(base_url=\"{url}/v1\", api_key=\"local\")")
    os.environ["AUTH_LOCAL_ANONYMOUS"] = "false"
    return (f"Assistants API: {url}/v1 on {host}: KEYS REQUIRED (not loopback). Issue one with\n"
            f"  make key PRINCIPAL=me NAME=laptop   (python -m core.api_keys create --principal me --name laptop)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--host", default="127.0.0.1", help="bind address; anything but loopback requires keys")
    args = parser.parse_args(argv)
    load_local_file(ROOT)
    banner = access_banner(args.host, args.port)
    children: list[subprocess.Popen] = []
    try:
        start_azurite(children)
        start_scripted_model_if_no_model(children)
        devhost = subprocess.Popen([sys.executable, "-m", "devhost.run", "--host", args.host, "--port", str(args.port)],
                                   cwd=ROOT)
        children.append(devhost)
        wait_until_listening(args.port, devhost, "devhost")
        root = f"http://{'127.0.0.1' if args.host == 'localhost' else args.host}:{args.port}"
        print(f"\n{banner}\nPlayground: {playground_url(root, ROOT / 'host.json')}\nCtrl-C stops everything.\n")
        return devhost.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    sys.exit(main())
