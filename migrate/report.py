"""What a run did: counts per kind, bytes, failures with reasons, warnings; as text and JSON."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

KINDS = ("file", "vector_store", "assistant", "thread", "message")
OUTCOMES = ("copied", "adopted", "skipped", "planned", "failed")


@dataclass
class Report:
    """Thread-safe tallies; `copied` objects were created now, `adopted` were found on the target
    from an interrupted run, `skipped` were already recorded in the mapping file."""

    counts: dict[str, Counter] = field(default_factory=lambda: {kind: Counter() for kind in KINDS})
    bytes_copied: int = 0
    bytes_planned: int = 0
    failures: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    throttled: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, kind: str, outcome: str, size: int = 0) -> None:
        with self._lock:
            self.counts[kind][outcome] += 1
            if outcome == "copied":
                self.bytes_copied += size
            elif outcome == "planned":
                self.bytes_planned += size

    def fail(self, kind: str, object_id: str, reason: str) -> None:
        with self._lock:
            self.counts[kind]["failed"] += 1
            self.failures.append({"kind": kind, "id": object_id, "reason": reason})

    def warn(self, kind: str, object_id: str, texts: list[str]) -> None:
        with self._lock:
            self.warnings += [{"kind": kind, "id": object_id, "warning": text} for text in texts]

    def throttle(self) -> None:
        with self._lock:
            self.throttled += 1

    def finish(self) -> None:
        self.finished = time.monotonic()

    @property
    def seconds(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def objects_moved(self) -> int:
        return sum(self.counts[kind]["copied"] + self.counts[kind]["adopted"] for kind in KINDS)

    def as_dict(self) -> dict:
        return {
            "counts": {kind: {outcome: self.counts[kind][outcome] for outcome in OUTCOMES} for kind in KINDS},
            "bytes_copied": self.bytes_copied,
            "bytes_planned": self.bytes_planned,
            "failures": self.failures,
            "warnings": self.warnings,
            "notes": self.notes,
            "throttled_responses": self.throttled,
            "seconds": round(self.seconds, 3),
        }

    def render(self, dry_run: bool = False) -> str:
        lines = [f"{'kind':<14}" + "".join(f"{outcome:>10}" for outcome in OUTCOMES)]
        for kind in KINDS:
            lines.append(f"{kind:<14}" + "".join(f"{self.counts[kind][outcome]:>10}" for outcome in OUTCOMES))
        if dry_run:
            lines.append(f"would move {self.bytes_planned:,} bytes of files (dry run: nothing was written)")
        else:
            lines.append(f"{self.objects_moved()} objects, {self.bytes_copied:,} bytes in {self.seconds:.1f} s")
        if self.throttled:
            lines.append(f"the endpoints answered 429 (throttled) {self.throttled} times; waited and went on")
        lines += [f"note: {note}" for note in self.notes]
        lines += [f"warning: {w['kind']} {w['id']}: {w['warning']}" for w in self.warnings]
        lines += [f"FAILED: {f['kind']} {f['id']}: {f['reason']}" for f in self.failures]
        return "\n".join(lines)

    def write_json(self, path) -> None:
        with open(path, "w", encoding="utf-8") as file:
            json.dump(self.as_dict(), file, indent=2)
