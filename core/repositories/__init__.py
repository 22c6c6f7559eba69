"""Storage repositories: the only code that knows table, key and blob layouts.

Layout (tables are created on first use; see core.collection for the two-row index):

| table        | PartitionKey           | RowKey                                   | holds                 |
|--------------|------------------------|------------------------------------------|-----------------------|
| `assistants` | owner (hashed principal)| `asst-a-<id>` / `asst-d-<complement>`    | assistant objects     |
| `files`      | owner                  | `file-a-<id>` / `file-d-<complement>`    | file objects          |
| `threads`    | thread id              | `thread`                                 | the thread + run lock |
|              |                        | `msg-a-<id>` / `msg-d-<complement>`      | messages              |
|              |                        | `run-…`, `step-<run id>-…` (run engine)  | runs, run steps       |
| `containers` | owner                  | `cntr-a-<id>` / `cntr-d-<complement>`    | container objects     |
|              |                        | `cf<container body>-a-<id>` / `…-d-…`    | a container's files   |

Blobs: container `files` holds uploaded bytes under `<file id>`, `containerfiles` a
container's files' bytes under `<cfile id>`; container
`records` holds records too large for an entity under `<table>/<partition>/…`.
"""
