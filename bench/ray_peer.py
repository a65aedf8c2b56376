"""The Ray peer of the suite: Orrery's workloads on Ray, as Ray's own microbenchmark runs them.

`ray.init(num_cpus=2)` on this machine, driven from one driver, prints one JSON line per metric
(the same names and units as Orrery's lines, system "ray").

    <python with ray installed> bench/ray_peer.py [--quick]

Ray is not a Debian package: the suite runs this file with ORRERY_BENCH_RAY_PYTHON, for example
a virtual environment made with `python3 -m venv ~/.venvs/ray && ~/.venvs/ray/bin/pip install
ray==2.58.0 numpy`. Exits with status 3 and one line on stderr when Ray cannot be imported.
"""
import logging
import sys

try:
    import numpy as np
    import ray
except ImportError as err:  # the suite prints this line loudly and goes on
    print(f"ray is not importable by {sys.executable}: {err}; install it in a virtual environment "
          "(pip install ray==2.58.0 numpy) and set ORRERY_BENCH_RAY_PYTHON to its python", file=sys.stderr)
    sys.exit(3)

from peer_measure import BATCH, PUT_GET_BYTES, WAIT_REFS, emitter, measure_rate

emit = emitter("ray")


@ray.remote
def noop():
    return 0


@ray.remote
def identity(x):
    return x


@ray.remote
class Echo:
    """The actor of the actor-call workloads."""

    def small(self):
        return 0


def wait_round():
    not_ready = [noop.remote() for _ in range(WAIT_REFS)]
    while not_ready:
        _ready, not_ready = ray.wait(not_ready, num_returns=1)


def main():
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    common = {"ray_version": ray.__version__}

    emit("single_client_tasks_sync", measure_rate(1, lambda: ray.get(noop.remote())),
         "tasks/s", "ray.get(noop.remote()), repeat", **common)
    emit("single_client_tasks_async", measure_rate(BATCH, lambda: ray.get([noop.remote() for _ in range(BATCH)])),
         "tasks/s", f"submit {BATCH} no-op tasks, then ray.get them all", **common)

    actor = Echo.remote()
    emit("actor_calls_sync_1_1", measure_rate(1, lambda: ray.get(actor.small.remote())),
         "calls/s", "one Ray actor; call one method, ray.get it, repeat", **common)
    emit("actor_calls_async_1_1", measure_rate(BATCH, lambda: ray.get([actor.small.remote() for _ in range(BATCH)])),
         "calls/s", f"one Ray actor; submit {BATCH} calls, then ray.get them all", **common)

    emit("single_client_wait_1k_refs", measure_rate(1, wait_round), "rounds/s",
         f"a round submits {WAIT_REFS} no-op tasks, then ray.wait(not_ready, num_returns=1) until none is left",
         refs_per_round=WAIT_REFS, **common)

    # On a fresh runtime, as Orrery's side does: what the task workloads left behind is not measured here.
    ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    array = np.random.default_rng(0).random(PUT_GET_BYTES // 8)
    gigabytes = PUT_GET_BYTES / 1e9

    def put_get():
        back = ray.get(identity.remote(ray.put(array)))
        if back.shape != array.shape or back[7] != array[7]:
            raise RuntimeError("put_get: the array came back changed")

    value, ops, seconds = measure_rate(1, put_get, warmup_seconds=0)
    emit("put_get_gigabytes", (value * gigabytes, ops, seconds), "GB/s",
         f"on a fresh ray.init(): round trip = ray.put({gigabytes} GB float64 array) + identity task + ray.get; "
         f"GB/s = {gigabytes} GB / seconds per round trip", bytes=PUT_GET_BYTES,
         seconds_per_round_trip=seconds / ops, **common)

    ray.shutdown()


if __name__ == "__main__":
    main()
