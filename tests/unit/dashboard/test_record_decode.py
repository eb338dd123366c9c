"""The dashboard's bulk read of trial records decodes exactly as decode_fields does (one json.loads per record)."""

from __future__ import annotations

import json
import math

import pytest

from orchestrator.store.codec import decode_fields, encode_fields
from orchestrator.store.ledger import _decode_record

RECORD = {"number": 3, "status": "completed", "params": {"a": math.nan, "b": [1, {"x": 1}], "c": math.inf},
          "value": math.nan, "error": 'he said "hi"\n', "gpu": None, "logged": {"images": {"a": ["p.png"]}}}
RAW = {k: v.encode() for k, v in encode_fields(RECORD).items()}


@pytest.mark.parametrize("raw", [
    RAW,
    {"params": RAW["params"]},
    RAW | {"status": b"not json"},  # hand-written text stays text
    RAW | {"status": b'1, "x": 2'},  # not one JSON text: it must not add a field
    RAW | {"status": b'1, "status": 2'},  # nor overwrite one
])
def test_bulk_decoding_matches_decode_fields(raw: dict[str, bytes]) -> None:
    assert json.dumps(_decode_record(raw), sort_keys=True) == json.dumps(decode_fields(raw), sort_keys=True)
    assert math.isnan(_decode_record(raw)["params"]["a"])
