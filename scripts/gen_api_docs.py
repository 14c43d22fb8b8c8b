"""Write docs/api.md from the API's own OpenAPI document (so the API reference stays true to the code).

A hand-written head (starting the server, a submission with curl, reading results back, errors)
followed by every path and method of ``/openapi.json``: what it needs (``x-kinhteso-action``),
its parameters, its request body and its example responses.

    .venv/bin/python scripts/gen_api_docs.py          # rewrite docs/api.md
    .venv/bin/python scripts/gen_api_docs.py --check  # exit 1 if docs/api.md is out of date
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"

HEAD = """# HTTP API reference / Tham chiếu API

Generated from the server's own OpenAPI document (`/openapi.json`) by `scripts/gen_api_docs.py`
(a test checks it is current). The server also serves it interactively at `/docs`.

## Starting the server

```sh
kinhteso serve --workspace ws                # http://127.0.0.1:8000/api/v1
kinhteso serve --workspace ws --private      # published figures need a read grant too
```

The server owns the workspace while it runs (other processes' writes wait; go through the API).
Every agency is a *member* with explicit grants and a token (nothing is open by default except
the reference lists and the official figure, unless `--private`):

```sh
kinhteso member add --code HP_TAX --name "Cục Thuế Hải Phòng" --kind tax --workspace ws
kinhteso grant --member HP_TAX --role submitter --indicators EINVOICE_REVENUE --territories 34:31 --workspace ws
kinhteso grant --member HP_TAX --role reader --indicators '*' --territories 34:31 --workspace ws
kinhteso token create --member HP_TAX --workspace ws      # printed once; stored hashed
```

## A submission with curl

The same CSV or XLSX files `kinhteso ingest` takes (long or wide layout), in the multipart field
`file`; the source defaults to the member's code:

```sh
curl -sS -H "Authorization: Bearer $TOKEN" -F file=@einvoice_2026-10.csv \\
     http://127.0.0.1:8000/api/v1/submissions
# 201 {"vintage": 37, "stored": true, "rows": 120, "source": "HP_TAX", ...}
# the same file again: 200 with the same vintage, nothing added
# a file with any problem: 422 with every problem (vi and en), nothing stored
# a row outside the member's submit grant: 403, nothing stored
```

`decimal=,` (query or form field) reads `1.234,5`. Bodies larger than 200 MB are refused with 413.

## Reading results back

```sh
curl -sS -H "Authorization: Bearer $TOKEN" \\
     'http://127.0.0.1:8000/api/v1/observations?indicator=EINVOICE_REVENUE&territory=34:31'
curl -sS -H "Authorization: Bearer $TOKEN" -H 'Accept: text/csv' \\
     'http://127.0.0.1:8000/api/v1/accounts?period=2025&territory=34:31'
curl -sS 'http://127.0.0.1:8000/api/v1/figure?territory=34:31&period=2025'   # public
```

JSON by default; `Accept: text/csv` gives CSV wherever the answer is a table (cells starting
`= + - @` are neutralised so that a spreadsheet never runs them). `Accept-Language: en` gives
English messages (Vietnamese by default).

## Errors

Every refusal is JSON `{"code", "message", "vi", "en", "problems"?}` (`message` in the language
asked for): 400 a usage error or malformed body (`BAD_JSON`, `BAD_MULTIPART`), 401
`UNAUTHENTICATED` (no, a bad or a revoked token), 403 `FORBIDDEN` (a grant that does not cover
the request), 404 `NOT_FOUND` or `UNKNOWN_…`, 405 `METHOD_NOT_ALLOWED`, 413 `TOO_LARGE`, 415
`UNSUPPORTED_MEDIA_TYPE`, 422 `REJECTED` (a file refused whole, with `problems`) or
`BAD_REQUEST` (a parameter that does not parse), 503 `STORE_LOCKED`. Uploaded file names are
never used as paths, and no request text is put in a response header.

## Under load

Many agencies at once: each submission is read, validated whole and staged in one of two worker
processes (running below the server's priority), then committed through the store's single
writer; readers never wait on a commit. Answers are served from memory, each kept until the data
it read change (for `observations` and `accounts`, the data of the territories asked for: a
submission for Hải Phòng leaves Đà Nẵng's answers as they were; for the others, any change);
kinhteso's computed figures (`accounts`, `quarterly`, `index`, `gaps`, `plan`) are recomputed in
the background after a change and may lag it by a few seconds (`Cache-Control: no-cache` waits for
the up-to-date answer); the quarterly results a submission feeds, and so `/changes`, follow within
seconds too. `benchmarks/serve.py` (20 submitting members × 10 files while 100 readers query
accounts and observations for 60 s, loopback, 2 cores) measured about 1,100 reads per second, p50
67 ms, p99 240 ms, no error and no submission lost.

## What each route needs

`x-kinhteso-action`: `public` (open to all unless the server is `--private`), `read` (a reader
or admin grant covering the indicators and territories touched; an open query is checked
against the rows it returns), `submit` (a submitter or admin grant covering every row),
`admin`.
"""


def _schema_type(schema: dict) -> str:
    if "anyOf" in schema:
        return " or ".join(_schema_type(s) for s in schema["anyOf"] if s.get("type") != "null") or "any"
    if schema.get("type") == "array":
        return f"list of {_schema_type(schema.get('items', {}))}"
    if "enum" in schema:
        return " or ".join(f"`{v}`" for v in schema["enum"])
    return schema.get("type", "any")


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(spec: dict) -> str:
    out = [HEAD.rstrip(), "", "## Endpoints", ""]
    for path in sorted(spec["paths"]):
        for method, op in spec["paths"][path].items():
            out += [f"### `{method.upper()} {path}`", ""]
            if op.get("summary"):
                out += [op["summary"] + ".", ""]
            out += [f"Needs: `{op.get('x-kinhteso-action', '-')}`.", ""]
            params = op.get("parameters", [])
            if params:
                out += ["| parameter | in | required | type | default | description |", "|---|---|---|---|---|---|"]
                for p in params:
                    schema = p.get("schema", {})
                    default = schema.get("default", "")
                    out.append(f"| `{p['name']}` | {p['in']} | {'yes' if p.get('required') else 'no'} | "
                               f"{_cell(_schema_type(schema))} | {_cell(json.dumps(default) if default != '' else '')} | "
                               f"{_cell(p.get('description', ''))} |")
                out.append("")
            body = op.get("requestBody", {}).get("content", {})
            for media, content in body.items():
                props = content.get("schema", {}).get("properties", {})
                if props:
                    out += [f"Request body (`{media}`):", ""]
                    for name, s in props.items():
                        out.append(f"- `{name}` ({_schema_type(s)}): {s.get('description', '')}".rstrip(": "))
                    out.append("")
            for status in sorted(op.get("responses", {})):
                resp = op["responses"][status]
                out.append(f"**{status}** {resp.get('description', '')}".rstrip())
                out.append("")
                for media, content in resp.get("content", {}).items():
                    if "example" in content:
                        out += [f"Example (`{media}`):", "", "```json",
                                json.dumps(content["example"], ensure_ascii=False, indent=2), "```", ""]
                    elif media != "application/json":
                        out += [f"Also as `{media}`.", ""]
    return "\n".join(out).rstrip() + "\n"


def spec() -> dict:
    from kinhteso.api import create_app  # noqa: PLC0415

    return create_app(Path("workspace")).openapi()


if __name__ == "__main__":
    text = render(spec())
    if "--check" in sys.argv:
        sys.exit(0 if DOC.exists() and DOC.read_text(encoding="utf-8") == text else 1)
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
