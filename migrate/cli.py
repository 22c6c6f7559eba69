"""`python -m migrate {copy,export,import,verify}`: argument parsing, wiring, clear errors, exit codes.

Exit codes: 0 everything moved and verified; 1 some objects failed or differ
(the report says which and why); 2 nothing could be done (usage, keys,
unreachable endpoint, a mapping file from another migration) or the run stopped
early — rerunning the same command resumes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import openai

from migrate import archive, endpoints, transform
from migrate.copier import Copier, Fatal
from migrate.journal import Journal, JournalMismatch
from migrate.report import Report
from migrate.service import ServiceReader, ServiceTarget
from migrate.verify import Verifier

DEFAULT_MAPPING = "migrate-mapping.jsonl"


def _source_options(parser: argparse.ArgumentParser, archive_alternative: bool = False) -> None:
    group = parser.add_argument_group("source")
    group.add_argument("--azure-endpoint", help="Azure OpenAI resource, e.g. https://NAME.openai.azure.com "
                       "(key from $AZURE_OPENAI_API_KEY or --source-key-env; without one, Entra ID)")
    group.add_argument("--api-version", default=endpoints.DEFAULT_AZURE_API_VERSION,
                       help="Azure OpenAI API version with Assistants v2 (default %(default)s)")
    group.add_argument("--source-base-url", help="any Assistants API, e.g. another deployment's https://APP/v1")
    group.add_argument("--source-key-env", metavar="VAR",
                       help="environment variable holding the source's key (default AZURE_OPENAI_API_KEY "
                            "with --azure-endpoint, MIGRATE_SOURCE_KEY with --source-base-url)")
    if archive_alternative:
        group.add_argument("--source-archive", type=Path, help="an archive as the source (instead of an endpoint)")


def _target_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("target")
    group.add_argument("--target-base-url", help="this service, e.g. https://APP.azurewebsites.net/v1")
    group.add_argument("--target-key-env", metavar="VAR", default="MIGRATE_TARGET_KEY",
                       help="environment variable holding the target's key (default %(default)s)")


def _run_options(parser: argparse.ArgumentParser, mapping: bool = True) -> None:
    if mapping:
        parser.add_argument("--mapping", type=Path, default=Path(DEFAULT_MAPPING),
                            help="mapping file (old id → new id), written as the copy goes; rerun with the same "
                                 "file to resume (default %(default)s)")
        parser.add_argument("--model-map", metavar="OLD=NEW,...", help="rename assistants' models (deployments)")
    parser.add_argument("--dry-run", action="store_true", help="print what would move; write nothing")
    parser.add_argument("--workers", type=int, default=4, help="parallel files/threads (default %(default)s)")
    parser.add_argument("--no-verify", action="store_true", help="skip the verification pass at the end")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--report-json", type=Path, help="also write the report as JSON here")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m migrate", description=(
        "Move Assistants API data (assistants, files, vector stores, threads) from Azure OpenAI or another "
        "deployment into this service, or to and from a portable archive."))
    commands = parser.add_subparsers(dest="command", required=True)
    threads_help = "file of thread ids, one per line (the API cannot list threads)"

    copy = commands.add_parser("copy", help="source endpoint → this service")
    _source_options(copy)
    _target_options(copy)
    copy.add_argument("--threads", type=Path, help=threads_help)
    _run_options(copy)

    export = commands.add_parser("export", help="source endpoint → archive (directory, or NAME.tar)")
    _source_options(export)
    export.add_argument("--archive", type=Path, required=True)
    export.add_argument("--threads", type=Path, help=threads_help)
    _run_options(export, mapping=False)

    restore = commands.add_parser("import", help="archive → this service")
    restore.add_argument("--archive", type=Path, required=True)
    _target_options(restore)
    _run_options(restore)

    check = commands.add_parser("verify", help="compare source and target object by object")
    _source_options(check, archive_alternative=True)
    _target_options(check)
    check.add_argument("--archive", type=Path, help="compare against an archive instead of a target endpoint")
    check.add_argument("--threads", type=Path, help=threads_help)
    check.add_argument("--mapping", type=Path, default=Path(DEFAULT_MAPPING))
    check.add_argument("--model-map", metavar="OLD=NEW,...")
    check.add_argument("--no-bytes", action="store_true", help="do not download files to compare their bytes")
    check.add_argument("--report-json", type=Path)
    return parser


def read_thread_ids(path: Path | None) -> list[str]:
    """Thread ids from a file: one per line; blank lines and # comments ignored; duplicates once."""
    if path is None:
        return []
    found: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if any(char.isspace() for char in text):
            raise endpoints.UsageError(f"{path}:{number}: expected one thread id per line, got {text!r}")
        if text not in found:
            found.append(text)
    return found


def _probe(side: str, endpoint) -> None:
    try:
        endpoint.probe()
    except openai.AuthenticationError:
        raise endpoints.UsageError(f"the {side} ({endpoint.label}) rejected the key (401): check the key's "
                                   "variable and that it belongs to this endpoint") from None
    except openai.PermissionDeniedError as error:
        raise endpoints.UsageError(f"the {side} ({endpoint.label}) refused access (403): {error.message}") from None
    except openai.NotFoundError:
        raise endpoints.UsageError(f"the {side} ({endpoint.label}) does not serve the Assistants API (404): "
                                   "check the URL (a base URL ends in /v1)") from None
    except openai.APIConnectionError:
        raise endpoints.UsageError(f"cannot reach the {side} at {endpoint.label}: check the URL and the "
                                   "network") from None


def _label(path: Path) -> str:
    return f"archive {path.resolve()}"


def _transfer(args, report: Report, reader, target, header: dict, journal_path: Path, thread_ids: list[str],
              verify_target, model_map: dict) -> int:
    journal = Journal(journal_path, header, dry_run=args.dry_run)
    try:
        with tempfile.TemporaryDirectory(prefix="migrate-") as workdir:
            Copier(reader, target, journal, report, Path(workdir), max(1, args.workers), args.dry_run,
                   progress=not args.no_progress).run(thread_ids)
    finally:
        journal.close()
    result = report.as_dict()
    problems = []
    if not args.dry_run:
        target.finish()
        if not args.no_verify:
            verifier = Verifier(reader, verify_target(), journal.resolve, model_map)
            problems = verifier.run(thread_ids)
            result["verification"] = {"checked": verifier.checked, "problems": problems}
    print(report.render(args.dry_run))
    _print_verification(result.get("verification"))
    if args.report_json:
        args.report_json.write_text(json.dumps(result, indent=2))
    return 1 if report.failures or problems else 0


def _print_verification(verification: dict | None) -> None:
    if verification is None:
        return
    problems = verification["problems"]
    print(f"verified {verification['checked']} objects: "
          + ("all match" if not problems else f"{len(problems)} difference(s)"))
    for problem in problems:
        print(f"DIFFERS: {problem['kind']} {problem['id']}: {problem['problem']}")


def _copy(args, report: Report) -> int:
    client, source_label = endpoints.source_client(args, report.throttle)
    target_client, target_label = endpoints.target_client(args, report.throttle)
    model_map = transform.parse_model_map(args.model_map)
    reader = ServiceReader(client, source_label)
    target = ServiceTarget(target_client, target_label, model_map)
    _probe("source", reader)
    _probe("target", target)
    return _transfer(args, report, reader, target, {"source": source_label, "target": target_label}, args.mapping,
                     read_thread_ids(args.threads), lambda: target.reader, model_map)


def _export(args, report: Report) -> int:
    client, source_label = endpoints.source_client(args, report.throttle)
    reader = ServiceReader(client, source_label)
    _probe("source", reader)
    target = None if args.dry_run else archive.ArchiveTarget(args.archive, source_label)
    journal_path = archive.work_dir(args.archive) / "journal.jsonl"
    return _transfer(args, report, reader, target, {"source": source_label, "target": _label(args.archive)}, journal_path,
                     read_thread_ids(args.threads), lambda: archive.ArchiveReader(args.archive), {})


def _import(args, report: Report) -> int:
    reader = archive.ArchiveReader(args.archive)
    target_client, target_label = endpoints.target_client(args, report.throttle)
    model_map = transform.parse_model_map(args.model_map)
    target = ServiceTarget(target_client, target_label, model_map)
    _probe("target", target)
    return _transfer(args, report, reader, target, {"source": _label(args.archive), "target": target_label}, args.mapping,
                     reader.thread_ids(), lambda: target.reader, model_map)


def _verify(args, report: Report) -> int:
    model_map = transform.parse_model_map(args.model_map)
    if args.source_archive:
        source = archive.ArchiveReader(args.source_archive)
        thread_ids = source.thread_ids()
    else:
        client, source_label = endpoints.source_client(args, report.throttle)
        source = ServiceReader(client, source_label)
        _probe("source", source)
        thread_ids = read_thread_ids(args.threads)
    if args.archive:
        target = archive.ArchiveReader(args.archive)
        resolve = lambda kind, old: old  # noqa: E731 - an archive keeps the source's ids
    else:
        target_client, target_label = endpoints.target_client(args, report.throttle)
        target = ServiceReader(target_client, target_label)
        _probe("target", target)
        if not args.mapping.exists():
            raise endpoints.UsageError(f"{args.mapping}: no such mapping file")
        journal = Journal(args.mapping, {"source": source.label, "target": target.label}, dry_run=True)
        resolve = journal.resolve
    verifier = Verifier(source, target, resolve, model_map, check_bytes=not args.no_bytes)
    problems = verifier.run(thread_ids)
    verification = {"checked": verifier.checked, "problems": problems}
    _print_verification(verification)
    if args.report_json:
        args.report_json.write_text(json.dumps({"verification": verification}, indent=2))
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    report = Report()
    command = {"copy": _copy, "export": _export, "import": _import, "verify": _verify}[args.command]
    try:
        return command(args, report)
    except (endpoints.UsageError, JournalMismatch, archive.ArchiveError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Fatal as error:
        print(f"stopped: {error}\nNothing is lost: rerun the same command to resume.", file=sys.stderr)
        return 2
