"""`python -m samples <name>`: run one sample assistant against the service and clean up after it.

The service is the one the seed's `.env` names (OPENAI_URI, OPENAI_KEY, OPENAI_VERSION,
OPENAI_GPT_DEPLOYMENT; EMAIL_URI for e-mail the client sends), read from the environment
or a `.env` file in the current folder or above; with none set, `make run` on this machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings
from pathlib import Path

import openai
from dotenv import find_dotenv, load_dotenv

from samples import SAMPLES, load
from samples.connection import azure_client, connection_from
from samples.session import Session


def parse(argv: list[str] | None) -> argparse.Namespace:
    listing = "\n".join(f"  {name:<17} {what}" for name, what in SAMPLES.items())
    parser = argparse.ArgumentParser(prog="python -m samples", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=f"samples:\n{listing}")
    parser.add_argument("name", choices=SAMPLES, metavar="name", help="which sample to run (listed below)")
    parser.add_argument("--out", type=Path, help="where images and created files are saved "
                                                 "(default: a folder under the system's temp directory)")
    parser.add_argument("--keep", action="store_true", help="keep the assistant, threads and files it created")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    load_dotenv(find_dotenv(usecwd=True))  # the environment wins over .env, as in the seed
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="samples")  # the SDK marks Assistants so
    connection = connection_from(os.environ)
    out_dir = args.out or Path(tempfile.gettempdir()) / "assistants-samples" / args.name
    session = Session(azure_client(connection), connection.deployment, out_dir)
    print(f"Sample {args.name}: {SAMPLES[args.name]}\nService: {connection.describe()}\nOutput: {out_dir}\n")
    try:
        turns = load(args.name).run(session)
    except openai.APIConnectionError:
        print(f"Cannot reach {connection.endpoint}. Start the service with `make run`, or set OPENAI_URI.",
              file=sys.stderr)
        return 2
    except openai.APIStatusError as error:
        print(f"The service refused a request: {error}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            session.clean_up()
    failed = [turn for turn in turns if turn.status != "completed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
