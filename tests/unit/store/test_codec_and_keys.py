"""Key names and the JSON codec of the ledger."""

from __future__ import annotations

import json
import math

import pytest

from orchestrator.ranking import Ranking
from orchestrator.runtime import best_of, sampler_value
from orchestrator.settings import Settings
from orchestrator.store.codec import decode_fields, dumps, encode_fields, metric_float, metric_json
from orchestrator.store.connection import effective_url, ssl_options
from orchestrator.store.keys import Keys


def test_every_key_carries_the_prefix_and_the_sweep_id() -> None:
    keys = Keys("acme")
    per_sweep = [keys.sweep("s1"), keys.trial("s1", 3), keys.lease("s1", 3), keys.stop("s1", 3), keys.metrics("s1"),
                 keys.trial_numbers("s1"), keys.decisions("s1")]
    assert all(k.startswith("acme:sweep:s1") for k in per_sweep)
    assert len(set(per_sweep)) == len(per_sweep)
    assert keys.sweeps.startswith("acme:") and keys.inbox.startswith("acme:")


def test_fields_round_trip_as_strict_json() -> None:
    fields = {"status": "running", "params": {"lr": 0.1, "opt": "adam"}, "value": None, "attempt": 2}
    encoded = encode_fields(fields)
    assert all(isinstance(v, str) for v in encoded.values())
    assert decode_fields({k.encode(): v.encode() for k, v in encoded.items()}) == fields


def test_non_finite_metrics_are_strings_in_json() -> None:
    assert [metric_json(x) for x in (math.nan, math.inf, -math.inf, 0.5)] == ["nan", "inf", "-inf", 0.5]
    assert math.isnan(metric_float("nan")) and metric_float("-inf") == -math.inf and metric_float(None) is None
    assert dumps(math.nan) == '"nan"' and dumps([math.inf]) == '["inf"]'  # stored, never raised (a trial would die)
    json.loads(dumps({"v": metric_json(math.nan)}))


def test_the_sampler_learns_the_value_metric_summary_ranks_by() -> None:
    best, last = Ranking("maximize", "best"), Ranking("maximize", "last")
    assert sampler_value({"status": "completed", "value": 0.8, "best": 0.9}, best) == 0.9
    assert sampler_value({"status": "completed", "value": 0.8, "best": 0.9}, last) == 0.8
    assert sampler_value({"status": "stopped", "value": 0.4, "best": 0.6}, best) == 0.6
    assert sampler_value({"status": "stopped", "value": 0.4, "best": 0.6}, last) == 0.4
    assert sampler_value({"status": "failed", "value": 0.4}, best) is None
    assert sampler_value({"status": "completed", "value": 0.4}, None) is None  # a sweep without a metric


def test_best_of_follows_the_goal_and_skips_nan() -> None:
    assert best_of({"best": 0.6, "value": 0.7}, "maximize") == 0.7
    assert best_of({"best": 0.6, "value": 0.7}, "minimize") == 0.6
    assert best_of({"best": None, "value": "nan"}, "maximize") is None


def test_credentials_and_tls_come_from_settings() -> None:
    s = Settings(redis_url="rediss://cache.example:6380/2", redis_username="sweeper", redis_password="p@ss:word",
                 redis_ssl_cert_reqs="required", redis_ssl_ca_certs="/etc/ca.pem")
    assert effective_url(s) == "rediss://sweeper:p%40ss%3Aword@cache.example:6380/2"
    options = ssl_options(s)
    assert options is not None and options["ssl_ca_certs"] == "/etc/ca.pem"
    assert ssl_options(Settings(redis_url="redis://h:1/0")) is None
    assert effective_url(Settings(redis_url="redis://h:1/0")) == "redis://h:1/0"


def test_parameters_keep_non_finite_values_exactly_while_metrics_become_strings() -> None:
    from orchestrator.store.codec import decode_fields, encode_fields

    raw = encode_fields({"params": {"x": float("nan"), "y": [float("-inf"), 1.5], "s": "nan"}, "best": float("inf")})
    assert all("NaN" not in v and "Infinity" not in v for v in raw.values())  # strict JSON for every reader
    back = decode_fields(raw)
    assert math.isnan(back["params"]["x"]) and back["params"]["y"] == [float("-inf"), 1.5]
    assert back["params"]["s"] == "nan"  # a string parameter stays a string
    assert back["best"] == "inf"  # metrics keep the documented string form that metric_float reads


def test_commands_pack_in_the_redis_protocol_with_or_without_hiredis(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator.store import connection

    args = ("EVALSHA", "ab", 2, "k1", "clé", 0, b"x\r\ny")
    expected = b"*7\r\n$7\r\nEVALSHA\r\n$2\r\nab\r\n$1\r\n2\r\n$2\r\nk1\r\n$4\r\ncl\xc3\xa9\r\n$1\r\n0\r\n$4\r\nx\r\ny\r\n"
    assert connection.pack(*args) == expected
    monkeypatch.setattr(connection, "_hiredis_pack", None)
    assert connection.pack(*args) == expected
