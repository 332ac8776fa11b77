"""The OpenAPI document is part of the contract: it changes only on purpose. `docs/openapi.json` is the
committed copy; `make openapi` rewrites it from the running code, and the diff shows what changed."""

from pathlib import Path

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_served_document_is_byte_identical_to_the_committed_copy(client):
    served = client.get("/api/v1/openapi.json")

    assert served.status_code == 200
    assert served.content == COMMITTED.read_bytes(), (
        "The OpenAPI document changed. If that was meant, run `make openapi` and commit docs/openapi.json."
    )
