"""file_search figures: ingestion MB/s (PDF, text), search latency on 10,000 chunks, recall@5.

- Ingestion: a text file and a PDF (made with fpdf2) are attached to a store
  through devhost + Azurite + the scripted model's embeddings; the time from
  attaching to `completed`, polled every 50 ms, gives MB/s of file bytes. The
  scripted embeddings (pure Python hashing) dominate that figure, so parse +
  chunk alone is also timed in-process.
- Search: a store of 10,000 chunks (ten files of synthetic text, 100-token
  chunks); p50/p95 of POST /vector_stores/{id}/search through the SDK after the
  first search (which loads the store into the instance's index, timed apart).
- Quality: recall@5 on bench/data/file_search (eight documents, 32 questions,
  CC0) for BM25 alone, vectors alone and the hybrid (RRF) ranking, computed
  in-process with the same index and fusion code, in the same run.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import openai

from core.file_search import chunking, parsing, ranking
from core.file_search.index import ChunkIndex
from core.file_search.segments import Segment
from scripted_model import embeddings as scripted_embeddings
from scripted_model import start_in_thread
from tests.support import keys
from tests.support.azurite import start_azurite
from tests.support.devhost_proc import ROOT, DevhostProcess

DATA = Path(__file__).parent / "data" / "file_search"
EVAL_CHUNKING = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}}
SEARCH_CHUNKS = 10_000
SEARCH_FILES = 10
SEARCH_REPEATS = 60
TOP_K = 5


# ---- quality ----------------------------------------------------------------------------------

def _eval_index() -> tuple[ChunkIndex, list[str], int]:
    index = ChunkIndex()
    segments = {}
    for path in sorted(DATA.glob("*.md")):
        if path.name == "README.md":
            continue
        texts = chunking.chunk(parsing.text_of(path.name, path.read_bytes()), EVAL_CHUNKING)
        vectors = np.asarray([scripted_embeddings.embed(text) for text in texts], dtype=np.float32)
        segments[path.name] = Segment(texts, vectors)
    index.sync("eval", {name: "1" for name in segments}, lambda name, version: segments[name])
    return index, [f"eval/{name}" for name in segments], sum(len(s.texts) for s in segments.values())


def recall_at_5() -> dict:
    """recall@5 of BM25, vector and hybrid rankings on the shipped evaluation set."""
    index, keys, chunk_count = _eval_index()
    questions = json.loads((DATA / "questions.json").read_text(encoding="utf-8"))
    hits = {"bm25": 0, "vector": 0, "hybrid": 0}
    for item in questions:
        keyword = index.keyword(keys, ranking.keyword_query(item["question"]), 50)
        query = np.asarray(scripted_embeddings.embed(item["question"]), dtype=np.float32)
        vector = index.vector(keys, query, 50)
        rankings = {"bm25": keyword[:TOP_K], "vector": vector[:TOP_K],
                    "hybrid": [key for key, _ in ranking.fuse([keyword, vector], TOP_K)]}
        for name, top in rankings.items():
            chunks = index.chunks(top)
            if any(chunks[c][0] == f"eval/{item['file']}" and item["answer"] in chunks[c][1] for c in top):
                hits[name] += 1
    return {**{name: round(count / len(questions), 3) for name, count in hits.items()},
            "questions": len(questions), "chunks": chunk_count}


# ---- ingestion and search through the HTTP API -------------------------------------------------

def _wait(client: openai.OpenAI, store_id: str, file_id: str) -> str:
    while True:
        status = client.vector_stores.files.retrieve(file_id, vector_store_id=store_id).status
        if status != "in_progress":
            return status
        time.sleep(0.05)


def _ingest_seconds(client: openai.OpenAI, name: str, data: bytes, chunking_strategy: dict | None = None) -> float:
    file = client.files.create(file=(name, data), purpose="assistants")
    store = client.vector_stores.create()
    started = time.perf_counter()
    client.vector_stores.files.create(vector_store_id=store.id, file_id=file.id,
                                      **({"chunking_strategy": chunking_strategy} if chunking_strategy else {}))
    status = _wait(client, store.id, file.id)
    assert status == "completed", status
    return time.perf_counter() - started


def _corpus_words() -> list[str]:
    text = " ".join(path.read_text(encoding="utf-8") for path in DATA.glob("*.md"))
    return [word for word in text.split() if word.isalpha()]


def _synthetic_text(words: list[str], approx_bytes: int, seed: int) -> str:
    rng = random.Random(seed)
    out, size = [], 0
    while size < approx_bytes:
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(8, 20))) + ". "
        out.append(sentence)
        size += len(sentence)
    return "".join(out)


def _pdf(text: str) -> bytes:
    from fpdf import FPDF

    document = FPDF()
    document.set_font("helvetica", size=10)
    document.add_page()
    document.multi_cell(0, 5, text)
    return bytes(document.output())


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def pipeline_figures() -> dict:
    """parse + chunk alone, in-process: the ingestion's own cost, without the embeddings model."""
    words = _corpus_words()
    text = _synthetic_text(words, 4_000_000, seed=1).encode()
    pdf = _pdf(_synthetic_text(words, 600_000, seed=2))
    figures = {}
    for name, data in (("text", text), ("pdf", pdf)):
        started = time.perf_counter()
        pieces = chunking.chunk(parsing.text_of(f"doc.{'txt' if name == 'text' else 'pdf'}", data), None)
        figures[f"{name}_pipeline_mb_s"] = len(data) / 1e6 / (time.perf_counter() - started)
        figures[f"{name}_chunks"] = len(pieces)
    return figures


def http_figures() -> dict:
    azurite = start_azurite()
    model = start_in_thread()
    workdir = Path(tempfile.mkdtemp())
    env = {"AzureWebJobsStorage": azurite.connection_string, "DURABLE_TASK_HUB": "benchfs", "AZURE_OPENAI_ENDPOINT": "",
           "OPENAI_BASE_URL": model.base_url, "OPENAI_API_KEY": "x", "OPENAI_EMBEDDINGS_MODEL": "scripted"}
    host = DevhostProcess(ROOT, env, workdir / "devhost.log").start()
    try:
        keys.bind(azurite.connection_string)  # the host requires keys, as deployed
        client = openai.OpenAI(base_url=host.base_url, api_key=keys.key_for(f"bench-{uuid.uuid4().hex}"), max_retries=0,
                               timeout=600)
        words = _corpus_words()
        text = _synthetic_text(words, 4_000_000, seed=1).encode()
        pdf = _pdf(_synthetic_text(words, 600_000, seed=2))
        _ingest_seconds(client, "warmup.txt", b"warm up the host")
        figures = {"text_mb": len(text) / 1e6, "text_seconds": _ingest_seconds(client, "big.txt", text),
                   "pdf_mb": len(pdf) / 1e6, "pdf_seconds": _ingest_seconds(client, "big.pdf", pdf)}

        # 10,000 chunks of ~100 tokens: ten files, ingested as one batch
        chunk_strategy = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}}
        per_file = _synthetic_text(words, 1, seed=3)
        sample = chunking.chunk(_synthetic_text(words, 200_000, seed=3), chunk_strategy)
        bytes_per_chunk = 200_000 / len(sample)
        files = []
        for number in range(SEARCH_FILES):
            per_file = _synthetic_text(words, int(bytes_per_chunk * SEARCH_CHUNKS / SEARCH_FILES), seed=10 + number)
            files.append(client.files.create(file=(f"part{number}.txt", per_file.encode()), purpose="assistants"))
        store = client.vector_stores.create()
        started = time.perf_counter()
        batch = client.vector_stores.file_batches.create_and_poll(
            store.id, file_ids=[file.id for file in files], chunking_strategy=chunk_strategy, poll_interval_ms=200)
        figures["batch_seconds"] = time.perf_counter() - started
        assert batch.file_counts.completed == SEARCH_FILES, batch
        figures["chunks"] = sum(len(list(client.vector_stores.files.content(file.id, vector_store_id=store.id)))
                                for file in files)
        rng = random.Random(7)
        queries = [" ".join(rng.choice(words) for _ in range(6)) for _ in range(SEARCH_REPEATS + 1)]
        started = time.perf_counter()
        client.vector_stores.search(store.id, query=queries[0], max_num_results=20)
        figures["first_search_ms"] = (time.perf_counter() - started) * 1000
        samples = []
        for query in queries[1:]:
            started = time.perf_counter()
            client.vector_stores.search(store.id, query=query, max_num_results=20)
            samples.append((time.perf_counter() - started) * 1000)
        figures["search_p50_ms"] = statistics.median(samples)
        figures["search_p95_ms"] = _percentile(samples, 0.95)
        return figures
    finally:
        host.stop()
        model.stop()
        azurite.stop()


def main() -> dict:
    quality = recall_at_5()
    print(f"recall@5 on {quality['questions']} questions over {quality['chunks']} chunks: "
          f"BM25 {quality['bm25']:.3f}, vector {quality['vector']:.3f}, hybrid {quality['hybrid']:.3f}")
    pipeline = pipeline_figures()
    print(f"parse + chunk in-process (no embeddings): text {pipeline['text_pipeline_mb_s']:.2f} MB/s, "
          f"PDF {pipeline['pdf_pipeline_mb_s']:.2f} MB/s")
    figures = http_figures()
    print(f"ingestion, text: {figures['text_mb']:.2f} MB in {figures['text_seconds']:.2f} s = "
          f"{figures['text_mb'] / figures['text_seconds']:.2f} MB/s")
    print(f"ingestion, PDF:  {figures['pdf_mb']:.2f} MB in {figures['pdf_seconds']:.2f} s = "
          f"{figures['pdf_mb'] / figures['pdf_seconds']:.2f} MB/s")
    print(f"store of {figures['chunks']} chunks ingested in {figures['batch_seconds']:.1f} s; first search "
          f"(loads the index) {figures['first_search_ms']:.0f} ms; search p50 {figures['search_p50_ms']:.1f} ms, "
          f"p95 {figures['search_p95_ms']:.1f} ms ({SEARCH_REPEATS} searches, top 20, through the SDK)")
    return {"quality": quality, **pipeline, **figures}


if __name__ == "__main__":
    main()
