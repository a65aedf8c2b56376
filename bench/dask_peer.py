"""The Dask peer of the suite: Orrery's workloads on Dask distributed.

A LocalCluster of 2 worker processes with 1 thread each, driven from one client, prints one
JSON line per metric (the same names and units as Orrery's lines, system "dask").

    /usr/bin/python3 bench/dask_peer.py [--quick]

Exits with status 3 and one line on stderr when Dask distributed cannot be imported.
"""
import logging
import sys

try:
    import numpy as np
    from distributed import Client, LocalCluster, wait
    import distributed
except ImportError as err:  # the suite prints this line loudly and goes on
    print(f"python3-distributed is not importable by {sys.executable}: {err}; install it with apt-get install python3-distributed", file=sys.stderr)
    sys.exit(3)

from peer_measure import BATCH, PUT_GET_BYTES, WAIT_REFS, emitter, measure_rate

emit = emitter("dask")


def noop():
    return 0


def identity(x):
    return x


class Echo:
    """The actor of the actor-call workloads."""

    def small(self):
        return 0


def wait_round(client):
    not_done = [client.submit(noop, pure=False) for _ in range(WAIT_REFS)]
    while not_done:
        _done, not_done = wait(not_done, return_when="FIRST_COMPLETED")


def main():
    logging.getLogger("distributed").setLevel(logging.ERROR)
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    common = {"dask_version": distributed.__version__}

    emit("single_client_tasks_sync", measure_rate(1, lambda: client.submit(noop, pure=False).result()),
         "tasks/s", "client.submit(noop, pure=False).result(), repeat", **common)
    emit("single_client_tasks_async",
         measure_rate(BATCH, lambda: client.gather([client.submit(noop, pure=False) for _ in range(BATCH)])),
         "tasks/s", f"submit {BATCH} no-op tasks (pure=False), then client.gather them", **common)

    actor = client.submit(Echo, actor=True).result()
    emit("actor_calls_sync_1_1", measure_rate(1, lambda: actor.small().result()),
         "calls/s", "one Dask actor; call one method, .result(), repeat", **common)
    emit("actor_calls_async_1_1",
         measure_rate(BATCH, lambda: [f.result() for f in [actor.small() for _ in range(BATCH)]]),
         "calls/s", f"one Dask actor; submit {BATCH} calls, then .result() each", **common)

    emit("single_client_wait_1k_refs", measure_rate(1, lambda: wait_round(client)), "rounds/s",
         f"a round submits {WAIT_REFS} no-op tasks, then distributed.wait(not_done, return_when=FIRST_COMPLETED) "
         "until none is left (Dask returns every finished future per call, Ray/Orrery one)",
         refs_per_round=WAIT_REFS, **common)

    # On a fresh cluster, as Orrery's side does: what the task workloads left behind is not measured here.
    client.close()
    cluster.close()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    array = np.random.default_rng(0).random(PUT_GET_BYTES // 8)
    gigabytes = PUT_GET_BYTES / 1e9

    def put_get():
        data = client.scatter(array, hash=False)
        back = client.submit(identity, data, pure=False).result()
        if back.shape != array.shape or back[7] != array[7]:
            raise RuntimeError("put_get: the array came back changed")

    value, ops, seconds = measure_rate(1, put_get, warmup_seconds=0)
    emit("put_get_gigabytes", (value * gigabytes, ops, seconds), "GB/s",
         f"on a fresh LocalCluster: round trip = client.scatter({gigabytes} GB float64 array) + identity task + result(); "
         f"GB/s = {gigabytes} GB / seconds per round trip", bytes=PUT_GET_BYTES,
         seconds_per_round_trip=seconds / ops, **common)

    client.close()
    cluster.close()


if __name__ == "__main__":
    main()
