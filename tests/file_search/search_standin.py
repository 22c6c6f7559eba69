"""A local stand-in for the Azure AI Search REST API: the few calls the azure-search-documents SDK makes
for file_search (index get/create, document upload/delete, search with filter and vector query),
refusing vectors of another length than the index's vector field, as the service does.

Ranking is deliberately simple — word overlap for text, cosine for vectors,
reciprocal-rank fusion (k = 60) for hybrid, as the service documents — enough to
check the backend sends the right query and reads the answer right.
"""

from __future__ import annotations

import http.server
import json
import math
import re
import ssl
import tempfile
import threading
from pathlib import Path

import trustme

_PATH = re.compile(r"^/indexes(?:\('(?P<quoted>[^']+)'\)|/(?P<plain>[^/?]+))?(?P<op>/docs/search\.(?:index|post\.search))?")
_WORD = re.compile(r"\w+")


def _matches(condition: str | None, document: dict) -> bool:
    if not condition:
        return True
    for clause in condition.split(" and "):
        clause = clause.strip()
        found = re.fullmatch(r"search\.in\((\w+), '([^']*)', ','\)", clause)
        if found:
            if document.get(found.group(1)) not in found.group(2).split(","):
                return False
            continue
        found = re.fullmatch(r"(\w+) eq '([^']*)'", clause)
        if not found:
            raise ValueError(f"stand-in cannot evaluate filter clause {clause!r}")
        if document.get(found.group(1)) != found.group(2):
            return False
    return True


class SearchStandIn:
    def __init__(self) -> None:
        self.indexes: dict[str, dict] = {}
        self.documents: dict[str, dict[str, dict]] = {}
        self.searches: list[dict] = []
        self.credentials: list[str] = []  # each request's Authorization (or api-key) header
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _reply(self, status: int, body: dict | None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self):
                stand_in.credentials.append(self.headers.get("Authorization") or f"api-key {self.headers.get('api-key')}")
                found = _PATH.match(self.path)
                if not found:
                    return None, None
                return found.group("quoted") or found.group("plain"), found.group("op")

            def _body(self) -> dict:
                return json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")

            def do_GET(self):  # noqa: N802
                name, _ = self._route()
                if name in stand_in.indexes:
                    self._reply(200, stand_in.indexes[name])
                else:
                    self._reply(404, {"error": {"code": "ResourceNameNotFound", "message": "No index."}})

            def do_PUT(self):  # noqa: N802
                name, _ = self._route()
                stand_in.indexes[name] = self._body()
                stand_in.documents.setdefault(name, {})
                self._reply(201, stand_in.indexes[name])

            def do_POST(self):  # noqa: N802
                name, op = self._route()
                if name not in stand_in.indexes:
                    return self._reply(404, {"error": {"code": "ResourceNameNotFound", "message": "No index."}})
                body = self._body()
                refusal = stand_in.wrong_vector_length(name, body)
                if refusal:  # the service rejects the whole request, in its own words about dimensions
                    return self._reply(400, {"error": {"code": "", "message": refusal}})
                if op == "/docs/search.index":
                    return self._reply(200, {"value": stand_in.index_documents(name, body["value"])})
                self._reply(200, {"value": stand_in.search(name, body)})

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # The SDK speaks only https: serve TLS with a throwaway CA the client is told to trust.
        authority = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert("127.0.0.1").configure_cert(context)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.ca_path = Path(tempfile.mkdtemp()) / "search-standin-ca.pem"
        authority.cert_pem.write_to_path(str(self.ca_path))
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def vector_dimensions(self, name: str) -> dict[str, int]:
        return {field["name"]: field["dimensions"] for field in self.indexes[name].get("fields", [])
                if field.get("dimensions")}

    def wrong_vector_length(self, name: str, body: dict) -> str | None:
        """What the service answers a document or vector query of another length than the field's."""
        dimensions = self.vector_dimensions(name)
        given = [(field, value) for action in body.get("value") or [] for field, value in action.items()
                 if field in dimensions and value is not None]
        given += [(query["fields"], query["vector"]) for query in body.get("vectorQueries") or []]
        for field, vector in given:
            if len(vector) != dimensions[field]:
                return (f"The request is invalid. Details: The vector field '{field}', with dimension of "
                        f"'{dimensions[field]}', expects a length of '{dimensions[field]}'. However, the provided "
                        f"length is '{len(vector)}'.")
        return None

    def index_documents(self, name: str, actions: list[dict]) -> list[dict]:
        store = self.documents[name]
        results = []
        for action in actions:
            kind = action.pop("@search.action", "upload")
            if kind == "delete":
                store.pop(action["id"], None)
            else:
                store[action["id"]] = action
            results.append({"key": action["id"], "status": True, "errorMessage": None, "statusCode": 200})
        return results

    def search(self, name: str, body: dict) -> list[dict]:
        self.searches.append(body)
        candidates = [document for document in self.documents[name].values() if _matches(body.get("filter"), document)]
        text = body.get("search") or "*"
        rankings = []
        if text != "*":
            words = {word.lower() for word in _WORD.findall(text)}
            scored = [(sum(1 for word in _WORD.findall(d["text"].lower()) if word in words), d) for d in candidates]
            rankings.append([d for score, d in sorted(scored, key=lambda item: -item[0]) if score > 0])
        for query in body.get("vectorQueries") or []:
            scored = [(sum(a * b for a, b in zip(query["vector"], d["vector"])) /
                       (math.sqrt(sum(a * a for a in d["vector"])) or 1), d) for d in candidates if d.get("vector")]
            rankings.append([d for _, d in sorted(scored, key=lambda item: -item[0])][:query.get("k") or 50])
        if not rankings:
            rankings = [candidates]
        totals: dict[str, float] = {}
        for ranking in rankings:
            for rank, document in enumerate(ranking, start=1):
                totals[document["id"]] = totals.get(document["id"], 0.0) + 1 / (60 + rank)
        ordered = sorted(totals, key=lambda key: -totals[key])[: body.get("top") or 50]
        select = [field for field in (body.get("select") or "").split(",") if field]
        documents = self.documents[name]
        return [{"@search.score": totals[key], **{field: documents[key].get(field) for field in select or documents[key]}}
                for key in ordered]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
