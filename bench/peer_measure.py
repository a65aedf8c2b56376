"""What the Python peers (dask_peer.py, ray_peer.py) share: the budgets of bench/measure.ts, the
rate measurement and the JSON line each metric prints."""
import json
import sys
import time

QUICK = "--quick" in sys.argv
# Same budgets as bench/measure.ts.
SECONDS, WARMUP_SECONDS, BATCH, WAIT_REFS, PUT_GET_BYTES = (
    (0.3, 0.1, 200, 100, 10_000_000) if QUICK else (3.0, 0.5, 1000, 1000, 100_000_000)
)


def measure_rate(ops_per_round, round_fn, warmup_seconds=WARMUP_SECONDS):
    """Warm-up (at least one round), then rounds for SECONDS; returns (ops/s, ops, seconds)."""
    start = time.perf_counter()
    round_fn()
    while time.perf_counter() - start < warmup_seconds:
        round_fn()
    ops = 0
    start = time.perf_counter()
    while True:
        round_fn()
        ops += ops_per_round
        if time.perf_counter() - start >= SECONDS:
            break
    seconds = time.perf_counter() - start
    return ops / seconds, ops, seconds


def emitter(system):
    """A function that prints one metric's line for `system`, as Orrery's workloads print theirs."""
    def emit(metric, rate, unit, note, **extra):
        value, ops, seconds = rate
        print(json.dumps({"metric": metric, "value": value, "unit": unit, "system": system, "ops": ops,
                          "seconds": seconds, "note": note, **extra}), flush=True)
    return emit
