"""A local emulator of the EnKash AR API, organised the way moto organises a service.

- ``backend/``: the state and the business rules (body validation, SQL, ids, dispatch counting,
  reminders, bulk ingest, searches), raising ``errors.ApiError``; no HTTP, so it is tested directly;
- ``handlers``: one thin function per operationId: read the request (``call.Call``), call the backend,
  hand the result to ``answers``;
- ``answers``: how answers are worded on the wire (envelopes, Invoice objects, BulkResponse, token);
- ``routes``: the route table (method, path, operationId, handler, body kind, envelope);
- ``app``: the FastAPI wiring (auth, request counting, body reading, envelopes); ``admin``: the
  ``/_sandbox`` API; ``auth``: tokens and lock-out; ``faults``: fault injection;
- ``state``: what one running sandbox holds; ``config``: its settings; ``server``: running it.
"""
