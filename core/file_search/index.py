"""The process's search index: chunks of the vector stores it has served, in SQLite FTS5 and numpy.

Segments in Blob storage are the truth (core.file_search.segments); this is a
cache built from them on demand. `sync` brings a store's cached files in line
with the versions its records name (loading new segments, dropping stale ones),
so an instance that never saw a store builds its part on first search and any
instance follows ingestion and deletes made elsewhere. Keyword ranking is
FTS5's BM25 (porter stemming, unicode61), exact over every cached chunk;
vector ranking is an exact cosine scan (one matrix product), which stays in
the milliseconds at the tens of thousands of chunks a store of this kind holds.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Callable, cast

from core.file_search.segments import Segment

if TYPE_CHECKING:  # numpy is imported where it is used: it costs start-up time
    import numpy as np

LOAD_WORKERS = 8
# Past this many cached chunks (a few hundred MB with 1,536-dimension vectors), the stores searched
# longest ago are dropped from the cache; their next search loads them again.
MAX_CACHED_CHUNKS = 200_000
Loader = Callable[[str, str], Segment | None]  # (file_id, version) → segment


def _key(store_id: str, file_id: str) -> str:
    return f"{store_id}/{file_id}"


class ChunkIndex:
    def __init__(self, max_chunks: int = MAX_CACHED_CHUNKS) -> None:
        self._max_chunks = max_chunks
        self._count = 0
        self._last_used: dict[str, float] = {}  # store id → monotonic time of its last sync
        import sqlite3  # here, not at start: only a file_search run builds an index

        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.executescript("""
            CREATE TABLE chunks (id INTEGER PRIMARY KEY, key TEXT NOT NULL, ord INTEGER NOT NULL, text TEXT NOT NULL);
            CREATE INDEX chunks_key ON chunks (key);
            CREATE VIRTUAL TABLE chunks_fts USING fts5(
                text, content='chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');
        """)
        self._lock = threading.Lock()  # guards the database and the dicts below
        self._store_locks: dict[str, threading.Lock] = {}
        self._versions: dict[str, str] = {}  # key → loaded version
        self._vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # key → (chunk ids, unit vectors)

    def sync(self, store_id: str, wanted: dict[str, str], load: Loader) -> None:
        """Make the store's cached files exactly `wanted` (file_id → segment version)."""
        with self._lock:
            store_lock = self._store_locks.setdefault(store_id, threading.Lock())
        with store_lock:
            prefix = store_id + "/"
            with self._lock:
                cached = {key[len(prefix):]: version for key, version in self._versions.items()
                          if key.startswith(prefix)}
            stale = [file_id for file_id, version in cached.items() if wanted.get(file_id) != version]
            missing = [(file_id, version) for file_id, version in wanted.items() if cached.get(file_id) != version]
            loaded = self._load_all(missing, load)
            with self._lock, self._db:
                for file_id in stale:
                    self._remove(_key(store_id, file_id))
                for (file_id, version), segment in zip(missing, loaded):
                    if segment is not None:
                        self._insert(_key(store_id, file_id), version, segment)
                self._last_used[store_id] = time.monotonic()
                self._evict(keep=store_id)

    def _evict(self, keep: str) -> None:
        """Drop least recently searched stores (never `keep`) until the cache is within its bound."""
        for store_id in sorted(self._last_used, key=lambda store_id: self._last_used[store_id]):
            if self._count <= self._max_chunks:
                return
            if store_id != keep:
                prefix = store_id + "/"
                for key in [key for key in self._versions if key.startswith(prefix)]:
                    self._remove(key)
                del self._last_used[store_id]

    @staticmethod
    def _load_all(missing: list[tuple[str, str]], load: Loader) -> list[Segment | None]:
        if len(missing) <= 1:
            return [load(file_id, version) for file_id, version in missing]
        with ThreadPoolExecutor(max_workers=min(LOAD_WORKERS, len(missing))) as pool:
            return list(pool.map(lambda item: load(*item), missing))

    def _remove(self, key: str) -> None:
        rows = self._db.execute("SELECT id, text FROM chunks WHERE key = ?", (key,)).fetchall()
        self._db.executemany("INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', ?, ?)", rows)
        self._db.execute("DELETE FROM chunks WHERE key = ?", (key,))
        self._count -= len(rows)
        self._versions.pop(key, None)
        self._vectors.pop(key, None)

    def _insert(self, key: str, version: str, segment: Segment) -> None:
        import numpy as np

        ids = []
        for order, text in enumerate(segment.texts):
            cursor = self._db.execute("INSERT INTO chunks (key, ord, text) VALUES (?, ?, ?)", (key, order, text))
            self._db.execute("INSERT INTO chunks_fts (rowid, text) VALUES (?, ?)", (cursor.lastrowid, text))
            ids.append(cursor.lastrowid)
        self._versions[key] = version
        self._count += len(ids)
        if segment.vectors is not None and len(segment.texts):
            self._vectors[key] = (np.asarray(ids, dtype=np.int64), segment.vectors)

    def keyword(self, keys: list[str], match: str, limit: int) -> list[int]:
        """Chunk ids of `keys` (store/file) matching the FTS5 expression, best BM25 first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT c.id FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
                "WHERE chunks_fts MATCH ? AND c.key IN (SELECT value FROM json_each(?)) "
                "ORDER BY bm25(chunks_fts) LIMIT ?", (match, json.dumps(keys), limit)).fetchall()
        return [row[0] for row in rows]

    def vector(self, keys: list[str], query: np.ndarray, limit: int) -> list[int] | None:
        """Chunk ids of `keys` most similar to the unit vector `query`; None if none has vectors."""
        import numpy as np

        with self._lock:
            parts = [self._vectors[key] for key in keys
                     if key in self._vectors and self._vectors[key][1].shape[1] == query.shape[0]]
        if not parts:
            return None
        ids = np.concatenate([part[0] for part in parts])
        scores = np.concatenate([part[1] @ query for part in parts])
        top = np.argsort(-scores, kind="stable")[:limit]
        return [int(ids[index]) for index in top]

    def chunks(self, chunk_ids: list[int]) -> dict[int, tuple[str, str]]:
        """chunk id → (store/file key, text)."""
        if not chunk_ids:
            return {}
        with self._lock:
            rows = self._db.execute("SELECT id, key, text FROM chunks WHERE id IN (SELECT value FROM json_each(?))",
                                    (json.dumps(chunk_ids),)).fetchall()
        return {row[0]: (row[1], row[2]) for row in rows}

    def size(self) -> int:
        with self._lock:
            return cast(int, self._db.execute("SELECT count(*) FROM chunks").fetchone()[0])


_index: ChunkIndex | None = None
_index_lock = threading.Lock()


def shared_index() -> ChunkIndex:
    global _index
    with _index_lock:
        if _index is None:
            _index = ChunkIndex()
        return _index
