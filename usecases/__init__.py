"""The use cases between HTTP and storage: the multi-step work and its decisions (create a thread with its
files, attach and ingest files, ready tool resources, place and run a response, start, signal and cancel a
run's orchestration). Handlers (api/) parse, authorize, call one of these and render; use cases import
core and tools, never api (the durable client is handed in)."""
