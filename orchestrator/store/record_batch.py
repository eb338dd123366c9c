"""Many trial records read as one JSON text: Redis joins each record's fields (already JSON values) into an array of
objects, so a reader of thousands of trials decodes them in one json.loads instead of a loads per field or record.

The result is exactly what decode_fields gives each record; any batch this path cannot decode exactly (a value
that is not one JSON text, written by hand) is refused (None), and the caller decodes it field by field.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from orchestrator.store.codec import EXACT_FIELDS, untag_nonfinite

# KEYS: hashes. ARGV: the n fields, then their n JSON keys ('"name":'). Returns the JSON array of the records (null
# for a hash with none of the fields) and how many fields each record has (the check that no value split in two).
RECORDS_JSON = """
local n = #ARGV / 2
local out, counts, k = {'['}, {}, 1
for i, key in ipairs(KEYS) do
  local values = redis.call('HMGET', key, unpack(ARGV, 1, n))
  local c = 0
  if i > 1 then k = k + 1; out[k] = ',' end
  for j = 1, n do
    if values[j] then
      out[k + 1] = c == 0 and '{' or ','
      out[k + 2] = ARGV[n + j]
      out[k + 3] = values[j]
      k, c = k + 3, c + 1
    end
  end
  k = k + 1
  out[k] = c == 0 and 'null' or '}'
  counts[i] = c
end
out[k + 1] = ']'
return {table.concat(out), counts}
"""
_TAG = b"__float__"


def script_args(fields: Sequence[str]) -> list[str]:
    """ARGV for RECORDS_JSON: the field names, then each as the JSON key that starts its pair."""
    return [*fields, *(json.dumps(f) + ":" for f in fields)]


def decode_batch(body: bytes, counts: Sequence[int]) -> list[dict[str, Any] | None] | None:
    """The records of a RECORDS_JSON reply (None for a missing one), or None when a value was not one JSON text:
    then the array does not parse, or a record has more keys than fields (a value added one) or a repeated key
    (a value overwrote one)."""
    repeated = False

    def unique(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeated
        obj = dict(items)
        repeated = repeated or len(obj) != len(items)
        return obj

    try:
        records = json.loads(body, object_pairs_hook=unique)
    except ValueError:
        return None
    if repeated or not isinstance(records, list) or len(records) != len(counts):
        return None
    if any(len(r) != c if isinstance(r, dict) else r is not None for r, c in zip(records, counts, strict=True)):
        return None
    if _TAG in body:  # a non-finite float in an exact field (params) is tagged: restore it, as loads_exact does
        for record in records:
            for k in EXACT_FIELDS & (record.keys() if record else set()):
                record[k] = untag_nonfinite(record[k])
    return records
