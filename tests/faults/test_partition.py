"""A worker cut off from Redis for longer than the lease: its trial is retried elsewhere, and the stale attempt,
once it can talk again, writes nothing (no report, no best/last, no outcome) and stops.

Two ways to cut a worker off:
- SIGSTOP of its whole process group (worker, pool process, trial) for longer than the lease, SIGCONT after the
  retry finished: what a frozen VM or a long GC pause looks like, and runs anywhere.
- a network namespace per worker host (a veth pair to a private redis-server bound to the host side), with the
  link taken down for longer than the lease and brought back: the kernel then delivers what the cut-off worker
  had sent. This needs root and `ip netns`; where the machine cannot create a namespace the test is skipped and
  says why.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.private_redis import PrivateRedis
from tests.faults.scenarios import SLOW, evidence, stale_attempt
from tests.integration.conftest import ROOT, SWEEPQ, Cluster, wait_until

pytestmark = pytest.mark.integration


@dataclass
class Namespace:
    """A network namespace joined to the host by a veth pair: host side `host_ip`, namespace side `ns_ip`."""

    name: str
    host_dev: str
    host_ip: str

    def spawn(self, cluster: Cluster, *args: str, log: str) -> subprocess.Popen[bytes]:
        out = open(cluster.tmp / log, "ab")  # noqa: SIM115
        argv = ["ip", "netns", "exec", self.name, *SWEEPQ, *args]
        proc = subprocess.Popen(argv, env=cluster.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        out.close()
        cluster.procs.append(proc)
        return proc

    def link(self, up: bool) -> None:
        """Take the host side of the link down (packets wait in the kernel's retransmit queue) or bring it back."""
        _ip("link", "set", self.host_dev, "up" if up else "down")


def _ip(*args: str, netns: str | None = None) -> None:
    prefix = ["ip", "-n", netns] if netns else ["ip"]
    subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=10)


@contextlib.contextmanager
def network_namespace() -> Iterator[Namespace]:
    """Create a namespace and veth pair, or skip the test saying why the machine cannot."""
    if shutil.which("ip") is None:
        pytest.skip("no `ip` command (iproute2): cannot create a network namespace for a worker host")
    if os.geteuid() != 0:
        pytest.skip("creating network namespaces needs root (CAP_NET_ADMIN); the SIGSTOP test covers fencing")
    tag = uuid.uuid4().hex[:6]
    name, host_dev, ns_dev = f"sq{tag}", f"vh{tag}", f"vn{tag}"
    octet = int(tag[:2], 16)
    host_ip, ns_ip = f"10.213.{octet}.1", f"10.213.{octet}.2"
    try:
        _ip("netns", "add", name)
    except (subprocess.CalledProcessError, OSError) as exc:
        pytest.skip(f"this machine cannot create a network namespace ({exc}); the SIGSTOP test covers fencing")
    try:
        _ip("link", "add", host_dev, "type", "veth", "peer", "name", ns_dev)
        _ip("link", "set", ns_dev, "netns", name)
        _ip("addr", "add", f"{host_ip}/30", "dev", host_dev)
        _ip("link", "set", host_dev, "up")
        _ip("addr", "add", f"{ns_ip}/30", "dev", ns_dev, netns=name)
        _ip("link", "set", ns_dev, "up", netns=name)
        _ip("link", "set", "lo", "up", netns=name)
        yield Namespace(name, host_dev, host_ip)
    finally:
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            _ip("link", "del", host_dev)
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            _ip("netns", "del", name)


def test_a_frozen_worker_s_stale_attempt_writes_nothing_once_its_retry_finished(cluster: Cluster) -> None:
    audit, ev = stale_attempt(cluster)
    assert ev["frozen_s"] > float(cluster.env["SWEEPQ_LEASE_SECONDS"])
    assert ev["retried"]["attempt"] == 2 and ev["retried"]["worker"].startswith("rescuer")
    assert ev["after"] == ev["before"], "the stale attempt changed the trial or its stream after it was retried"
    assert ev["final"]["status"] == "completed"
    assert audit.clean, audit
    assert "no longer owns" in cluster.logs() or "lease lost" in cluster.logs()


def test_a_worker_host_partitioned_from_redis_longer_than_the_lease_writes_nothing_after_its_retry(
    tmp_path: Path,
) -> None:
    with network_namespace() as net:
        server = PrivateRedis(tmp_path / "redis", bind=net.host_ip)
        server.start()
        cluster = Cluster(server.url, tmp_path)
        try:
            _partition(cluster, net)
        finally:
            cluster.close()
            server.kill()


def _partition(cluster: Cluster, net: Namespace) -> None:
    lease = float(cluster.env["SWEEPQ_LEASE_SECONDS"])
    cluster.env["SWEEPQ_REDIS_SOCKET_TIMEOUT"] = "1"  # the cut-off worker's calls fail fast (the default is 10 s)
    cluster.scheduler()
    cut = net.spawn(cluster, "worker", "--queues", cluster.queue, "--concurrency", "1", "--loglevel", "WARNING",
                    "--name", f"cut-{cluster.prefix}@%h", log="worker-cut.log")
    spec = cluster.spec(trial={"function": SLOW}, limits={"max_total_runs": 3, "max_concurrent_runs": 1, "max_retries": 1})
    sweep = cluster.client.submit(spec)
    ledger = cluster.client.ledger
    victim = wait_until(
        lambda: next((t for t in ledger.trials(sweep.id) if t["status"] == "running" and t.get("reports", 0) >= 2), None),
        60, "a trial reporting from the namespaced worker",
    )
    number = int(victim["number"])
    net.link(up=False)
    cut_at = time.monotonic()
    cluster.worker(1, None, "--name", f"rescuer-{cluster.prefix}@%h")
    wait_until(lambda: "until the lease ran out" in (cluster.tmp / "worker-cut.log").read_text(), lease + 10,
               "the cut-off worker to stop its trial")
    stopped_after = time.monotonic() - cut_at
    retried = wait_until(
        lambda: next((t for t in ledger.trials(sweep.id) if t["number"] == number and t["status"] == "completed"), None),
        lease + 60, "the retry to complete",
    )
    time.sleep(max(0.0, 2 * lease - (time.monotonic() - cut_at)))  # cut off for at least twice the lease
    before = evidence(cluster, sweep, number)
    net.link(up=True)  # what the cut-off worker had sent is delivered now
    time.sleep(3.0)
    after = evidence(cluster, sweep, number)
    assert stopped_after < lease, "the cut-off worker kept its trial running past its lease"
    assert retried["attempt"] == 2 and retried["worker"].startswith("rescuer")
    assert after == before, "the stale attempt changed the trial or its stream after the link came back"
    assert sweep.wait(timeout=60, progress=False)["status"] == "completed"
    assert cut.poll() is None, "the cut-off worker died instead of reconnecting"
