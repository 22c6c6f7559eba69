"""Hybrid retrieval must not be worse than plain BM25 on the shipped evaluation set (bench/data/file_search)."""

from __future__ import annotations

from bench.file_search import recall_at_5


def test_hybrid_recall_at_5_is_at_least_bm25():
    quality = recall_at_5()
    assert quality["questions"] == 32 and quality["chunks"] > 30
    assert quality["hybrid"] >= quality["bm25"] > 0.5, quality
