"""The ledger of sweeps and trials in Redis: JSON fields in hashes, with compare-and-set scripts for state changes.

Every change of a trial's state goes through a script that checks the state (and attempt) it expects, so a
worker, the scheduler and a revoke handler racing on one trial can never both win, and a late message for an
old attempt changes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import redis

from orchestrator.store.codec import decode_fields, dumps, encode_fields, loads_exact
from orchestrator.store.connection import HeldConnection
from orchestrator.store.keys import Keys
from orchestrator.store.overlap import Call
from orchestrator.store.record_batch import RECORDS_JSON, decode_batch, script_args

# KEYS: trial, lease. ARGV: attempt (JSON), owner, lease ms, then field/value pairs to set. Returns the params.
# A repeated claim by the same owner (its reply was lost in an outage) returns the params again.
# The scheduler is not told of a start (it counts queued and running alike as in flight, and re-reads
# in-flight trials every second), which halves its work per trial.
_CLAIM = """
local function claimed()
  local got = redis.call('HMGET', KEYS[1], 'params', 'resume_from')
  return {got[1], got[2] or 'null'}
end
local cur = redis.call('HMGET', KEYS[1], 'status', 'attempt')
if cur[1] == '"running"' and cur[2] == ARGV[1] and redis.call('GET', KEYS[2]) == ARGV[2] then return claimed() end
if cur[1] ~= '"queued"' then return -1 end
if cur[2] ~= ARGV[1] then return -2 end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return -3 end
if #ARGV >= 4 then redis.call('HSET', KEYS[1], unpack(ARGV, 4)) end
return claimed()
"""

# KEYS: trial, lease, sweep inbox[, stop flag]. ARGV: n statuses, the statuses (JSON), attempt (JSON or ''), flags,
# inbox event, then field/value pairs. flags: 'L' = only if no lease exists, 'D' = delete the lease, 'S' = raise the
# trial's stop flag (KEYS[4], reason 'stopped', kept a day) in the same step.
_CAS = """
local cur = redis.call('HMGET', KEYS[1], 'status', 'attempt')
local status = cur[1]
local n = tonumber(ARGV[1])
local ok = false
for i = 2, n + 1 do if status == ARGV[i] then ok = true end end
if not ok then return 0 end
local attempt, flags, event = ARGV[n + 2], ARGV[n + 3], ARGV[n + 4]
if attempt ~= '' and cur[2] ~= attempt then return 0 end
if string.find(flags, 'L', 1, true) and redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if string.find(flags, 'D', 1, true) then redis.call('DEL', KEYS[2]) end
if string.find(flags, 'S', 1, true) then redis.call('SET', KEYS[4], 'stopped', 'EX', 86400, 'NX') end
if #ARGV >= n + 5 then redis.call('HSET', KEYS[1], unpack(ARGV, n + 5)) end
if event ~= '' then redis.call('RPUSH', KEYS[3], event) end
return 1
"""

# KEYS: trial, lease. ARGV: owner, lease ms, attempt (JSON). The heartbeat of one attempt: 1 = lease extended,
# 2 = lease taken again (it ran out while Redis was away or restarted, but the trial was not reaped: the attempt
# is still the trial's running one, so nobody else can own it), 0 = lost (reaped, retried or ended).
_RENEW_TRIAL = """
local holder = redis.call('GET', KEYS[2])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[2], ARGV[2]) return 1 end
if holder then return 0 end
if redis.call('HGET', KEYS[1], 'status') ~= '"running"' or redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[3] then
  return 0
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 2
"""

# KEYS: lease. ARGV: owner, lease ms. Extends the lease only for its owner.
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

# KEYS: lease. ARGV: owner. Deletes the lease only for its owner (one step: no other owner's lease is deleted).
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


# KEYS: hashes. ARGV: fields. The fields of every hash (a read-only batch read: one round trip, one command).
_HMGET_MANY = """
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HMGET', key, unpack(ARGV)) end
return out
"""


def text(value: Any) -> str:
    """A Redis reply as str (replies are bytes: the client does not decode, values are our JSON)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def trial_event(sweep_id: str, number: int, payload: Mapping[str, Any] | None = None) -> str:
    """The inbox message that tells the scheduler trial `number` of a sweep changed (with its new fields)."""
    return f"trial {sweep_id} {number}" + (f" {dumps(payload)}" if payload else "")


class Ledger:
    """Reads and writes sweeps and trials; every value is JSON, every key comes from Keys."""

    def __init__(self, client: redis.Redis, keys: Keys, held: HeldConnection | None = None) -> None:
        """`held`: claims and transitions go over this held connection (a worker's hot path, one thread)."""
        self.r = client
        self.keys = keys
        self.held = held
        self._claim = client.register_script(_CLAIM)
        self._cas = client.register_script(_CAS)
        self._renew = client.register_script(RENEW)
        self._release = client.register_script(RELEASE)
        self._renew_trial = client.register_script(_RENEW_TRIAL)
        self._hmget_many = client.register_script(_HMGET_MANY)
        self._records_json = client.register_script(RECORDS_JSON)

    # -- sweeps -------------------------------------------------------------------------------------------
    def create_sweep(self, sweep_id: str, fields: Mapping[str, Any]) -> bool:
        """Store a new sweep and tell the scheduler; False if the id is taken (nothing is overwritten)."""
        if not self.r.hsetnx(self.keys.sweep(sweep_id), "id", dumps(sweep_id)):
            return False
        pipe = self.r.pipeline()
        pipe.hset(self.keys.sweep(sweep_id), mapping=encode_fields(fields))
        pipe.zadd(self.keys.sweeps, {sweep_id: time.time()})
        pipe.sadd(self.keys.active, sweep_id)
        pipe.rpush(self.keys.inbox, f"sweep {sweep_id}")
        pipe.execute()
        return True

    def sweep(self, sweep_id: str) -> dict[str, Any] | None:
        raw = self.r.hgetall(self.keys.sweep(sweep_id))
        return decode_fields(raw) if raw else None

    def sweep_ids(self) -> list[str]:
        return [text(s) for s in self.r.zrange(self.keys.sweeps, 0, -1)]

    def update_sweep(self, sweep_id: str, fields: Mapping[str, Any]) -> None:
        self.r.hset(self.keys.sweep(sweep_id), mapping=encode_fields(fields))

    def notify_sweep(self, sweep_id: str) -> None:
        """Tell the sweep's scheduler to read the sweep again (pause, resume, stop)."""
        self.r.rpush(self.keys.sweep_inbox(sweep_id), f"sweep {sweep_id}")

    def end_active(self, sweep_id: str) -> None:
        """A sweep ended: no scheduler leads it any more, and an evaluator applies its last reports (draining)."""
        pipe = self.r.pipeline(transaction=True)
        pipe.srem(self.keys.active, sweep_id)
        pipe.sadd(self.keys.draining, sweep_id)
        pipe.delete(self.keys.sweep_inbox(sweep_id))
        pipe.execute()

    # -- trials -------------------------------------------------------------------------------------------
    def create_trials(
        self, sweep_id: str, trials: Sequence[Mapping[str, Any]], next_number: int,
        exploits: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Store new queued trials and the sweep's next trial number in one transaction (with the population
        exploits these trials carry out, marked started in the same transaction, so none starts twice)."""
        pipe = self.r.pipeline(transaction=True)
        for key, doc in (exploits or {}).items():
            pipe.hset(self.keys.population(sweep_id), key, dumps(doc))
        for trial in trials:
            pipe.hset(self.keys.trial(sweep_id, trial["number"]), mapping=encode_fields(trial))
            pipe.zadd(self.keys.trial_numbers(sweep_id), {str(trial["number"]): trial["number"]})
        pipe.hset(self.keys.sweep(sweep_id), "next_number", dumps(next_number))
        pipe.execute()

    def trial_numbers(self, sweep_id: str, offset: int = 0, limit: int | None = None) -> list[int]:
        """Trial numbers in order; a page of them with offset/limit (one ZRANGE by rank, O(log n + limit))."""
        stop = -1 if limit is None else offset + limit - 1
        if limit is not None and limit <= 0:
            return []
        return [int(text(n)) for n in self.r.zrange(self.keys.trial_numbers(sweep_id), offset, stop)]

    def trial_numbers_after(self, sweep_id: str, number: int) -> list[int]:
        """The numbers of the trials created after trial `number` (a reader that holds the others asks for these)."""
        return [int(text(n)) for n in self.r.zrangebyscore(self.keys.trial_numbers(sweep_id), f"({number}", "+inf")]

    def trial_count(self, sweep_id: str) -> int:
        return int(self.r.zcard(self.keys.trial_numbers(sweep_id)))

    def trials(self, sweep_id: str, numbers: Iterable[int] | None = None) -> list[dict[str, Any]]:
        """Trial records in number order (all of them unless numbers are given)."""
        wanted = sorted(self.trial_numbers(sweep_id) if numbers is None else set(numbers))
        pipe = self.r.pipeline(transaction=False)
        for n in wanted:
            pipe.hgetall(self.keys.trial(sweep_id, n))
        return [decode_fields(raw) for raw in pipe.execute() if raw]

    def trial_fields(self, sweep_id: str, numbers: Sequence[int], fields: Sequence[str]) -> list[dict[str, Any]]:
        """Only the named fields of these trials (one script call: an HMGET each, without a client-side command
        per trial; a missing trial is left out): a reader of many trials skips what it does not show (log tails)."""
        if not numbers:
            return []
        call = self.fields_call(sweep_id, numbers, fields)
        return self.fields_of(sweep_id, numbers, fields, self._records_json(keys=call.keys, args=call.args))

    def fields_call(self, sweep_id: str, numbers: Sequence[int], fields: Sequence[str]) -> Call:
        """The script call whose reply fields_of decodes (for a reader that overlaps many: see store.overlap)."""
        return Call(RECORDS_JSON, [self.keys.trial(sweep_id, n) for n in numbers], script_args(fields))

    def fields_of(self, sweep_id: str, numbers: Sequence[int], fields: Sequence[str], reply: Any) -> list[dict[str, Any]]:
        """The records of a fields_call reply, decoded as decode_fields does (a hand-written value: read again and
        decoded field by field)."""
        records = decode_batch(*reply)
        if records is not None:
            return [r for r in records if r is not None]
        keys = [self.keys.trial(sweep_id, n) for n in numbers]
        replies: Any = self._hmget_many(keys=keys, args=list(fields))
        raws: list[dict[bytes | str, bytes | str]] = [
            {k: v for k, v in zip(fields, values, strict=True) if v is not None} for values in replies]
        return [decode_fields(raw) for raw in raws if raw]

    def trial(self, sweep_id: str, number: int) -> dict[str, Any] | None:
        raw = self.r.hgetall(self.keys.trial(sweep_id, number))
        return decode_fields(raw) if raw else None

    def update_trial(self, sweep_id: str, number: int, fields: Mapping[str, Any]) -> None:
        self.r.hset(self.keys.trial(sweep_id, number), mapping=encode_fields(fields))

    def claim(
        self, sweep_id: str, number: int, attempt: int, owner: str, lease_s: float, fields: Mapping[str, Any]
    ) -> int | tuple[dict[str, Any], str | None]:
        """Take a queued trial's lease (SET NX) and mark it running, returning its parameters and the checkpoint
        directory it resumes from; else -1 (not queued), -2 (an older attempt's message) or -3 (owned)."""
        args: list[Any] = [dumps(attempt), owner, int(lease_s * 1000)]
        for k, v in encode_fields(fields).items():
            args += [k, v]
        keys = [self.keys.trial(sweep_id, number), self.keys.lease(sweep_id, number)]
        result = self._call(self._claim, keys, args)
        if isinstance(result, int):
            return result
        params: dict[str, Any] = loads_exact(text(result[0]))
        resume = json.loads(text(result[1]))
        return params, resume if isinstance(resume, str) else None

    def renew(self, sweep_id: str, number: int, owner: str, lease_s: float, attempt: int | None = None) -> bool:
        """Extend a lease that `owner` still holds; False means it was lost (reaped).

        With the attempt, a lease that merely ran out (Redis was away) is taken again while that attempt is still
        the trial's running one; the attempt, not the lease key, is what fences a stale worker.
        """
        if attempt is None:
            return bool(self._renew(keys=[self.keys.lease(sweep_id, number)], args=[owner, int(lease_s * 1000)]))
        keys = [self.keys.trial(sweep_id, number), self.keys.lease(sweep_id, number)]
        return bool(self._renew_trial(keys=keys, args=[owner, int(lease_s * 1000), dumps(attempt)]))

    def transition(
        self,
        sweep_id: str,
        number: int,
        expect: Iterable[str],
        fields: Mapping[str, Any],
        *,
        attempt: int | None = None,
        only_without_lease: bool = False,
        drop_lease: bool = False,
        notify: bool = True,
        tell: Iterable[str] = (),
    ) -> bool:
        """Set fields on a trial only if its status is one of `expect` (and its attempt matches).

        The scheduler is notified; the fields named in `tell` travel with the notification so that it need not
        read the trial back.
        """
        flags = ("L" if only_without_lease else "") + ("D" if drop_lease else "")
        keys, args = self._cas_call(sweep_id, number, expect, fields, attempt, flags, notify, tell)
        return bool(self._call(self._cas, keys, args))

    def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        if self.held is not None:
            return self.held.evalsha(script.sha, script.script, keys, args)
        return script(keys=keys, args=args)

    def queue_stop(self, pipe: Any, sweep_id: str, number: int, attempt: int) -> None:
        """Queue on `pipe` a policy stop of one running (or queued) attempt: its status fields and its stop flag in
        one script call, so an evaluator writes a batch's stops in the round trip that acknowledges the batch."""
        fields = {"stop_reason": "stopped", "stop_requested_at": time.time()}
        keys, args = self._cas_call(sweep_id, number, ["running", "queued"], fields, attempt, "S", True, ())
        all_keys = [*keys, self.keys.stop(sweep_id, number)]
        pipe.evalsha(self._cas.sha, len(all_keys), *all_keys, *args)  # the caller loads it if lost: load_scripts()

    def load_scripts(self) -> None:
        """Load the scripts queued on pipelines by EVALSHA (queue_stop) into a server that lost them (restarted)."""
        self.r.script_load(self._cas.script)

    def _cas_call(
        self, sweep_id: str, number: int, expect: Iterable[str], fields: Mapping[str, Any], attempt: int | None,
        flags: str, notify: bool, tell: Iterable[str],
    ) -> tuple[list[str], list[Any]]:
        statuses = [dumps(s) for s in expect]
        payload = {k: fields[k] for k in tell if k in fields}
        event = trial_event(sweep_id, number, payload) if notify else ""
        args: list[Any] = [len(statuses), *statuses, "" if attempt is None else dumps(attempt), flags, event]
        for k, v in encode_fields(fields).items():
            args += [k, v]
        return [self.keys.trial(sweep_id, number), self.keys.lease(sweep_id, number), self.keys.sweep_inbox(sweep_id)], args

    def release(self, key: str, owner: str) -> None:
        """Give a lease back if `owner` holds it (a trial's worker lets it go at once when the trial ends)."""
        self._release(keys=[key], args=[owner])

    def lease_holders(self, sweep_id: str, numbers: Sequence[int]) -> dict[int, bool]:
        """Whether each trial's lease still exists (a missing one means its worker is gone or done)."""
        pipe = self.r.pipeline(transaction=False)
        for n in numbers:
            pipe.exists(self.keys.lease(sweep_id, n))
        return {n: bool(e) for n, e in zip(numbers, pipe.execute(), strict=True)}

    def request_stop(self, sweep_id: str, numbers: Iterable[int], reason: str) -> None:
        """Raise the stop flag that a trial's next report() or heartbeat sees; kept a day for late readers."""
        pipe = self.r.pipeline(transaction=False)
        for n in numbers:
            pipe.set(self.keys.stop(sweep_id, n), reason, ex=86_400, nx=True)
        pipe.execute()

    def stop_reason(self, sweep_id: str, number: int) -> str | None:
        value = self.r.get(self.keys.stop(sweep_id, number))
        return text(value) if value is not None else None

    # -- population -----------------------------------------------------------------------------------------
    def record_exploit(self, sweep_id: str, key: str, doc: Mapping[str, Any]) -> bool:
        """Store a population exploit once (HSETNX: a re-evaluated report changes nothing) and tell the scheduler."""
        if not self.r.hsetnx(self.keys.population(sweep_id), key, dumps(doc)):
            return False
        self.r.rpush(self.keys.sweep_inbox(sweep_id), f"exploit {sweep_id} {key}")
        return True

    def exploits(self, sweep_id: str, keys: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        """A population sweep's exploits by key (all, or the ones named)."""
        if keys is None:
            raw: Any = self.r.hgetall(self.keys.population(sweep_id))
            return {text(k): json.loads(text(v)) for k, v in raw.items()}
        values: Any = self.r.hmget(self.keys.population(sweep_id), list(keys))
        return {k: json.loads(text(v)) for k, v in zip(keys, values, strict=True) if v is not None}
