"""The production scoring worker (`lms-soap worker`: jobs.worker.run_worker) with three timers.

    python -m bench.pipeline_worker          (settings from the environment, as `lms-soap worker`)

Nothing is changed in what runs: the same container, RQ SimpleWorker, job function and use case.
Three wrappers only add up wall-clock time:
- RQ's SimpleWorker.execute_job: a whole job as RQ runs it (bookkeeping in Redis included);
- jobs.scoring.advance_scoring: our step (database reads and writes, the token's decryption, the
  engine calls, the next step's enqueue);
- the container's scoring engine: the HTTP calls to the engine (initiate's includes the engine's
  pull of the transactions from the LMS, which reads them from the CBS).
At exit the totals go to the JSON file named by BENCH_WORKER_STATS.
"""
from __future__ import annotations

import json
import os
import threading
import time

import jobs.scoring as scoring_job
import jobs.worker as production_worker
from lms_soap.config import load_settings
from lms_soap.logs import configure_logging

_lock = threading.Lock()
_written_at = 0.0
STATS: dict[str, float] = {"jobs": 0, "job_s": 0.0, "steps": 0, "step_s": 0.0, "engine_calls": 0,
                           "engine_s": 0.0, "initiate_calls": 0, "query_calls": 0,
                           "first_job_at": 0.0, "last_job_at": 0.0}


def _add(**amounts: float) -> None:
    with _lock:
        for key, value in amounts.items():
            STATS[key] += value


class TimedEngine:
    """Wraps the ScoringEngine port; times every call."""

    def __init__(self, engine):
        self._engine = engine

    def _timed(self, kind: str, call, *args):
        started = time.perf_counter()
        try:
            return call(*args)
        finally:
            _add(engine_calls=1, engine_s=time.perf_counter() - started, **{kind: 1})

    def create_client(self, *args):
        return self._engine.create_client(*args)

    def initiate(self, *args):
        return self._timed("initiate_calls", self._engine.initiate, *args)

    def query_score(self, *args):
        return self._timed("query_calls", self._engine.query_score, *args)


class TimedSimpleWorker(production_worker.SimpleWorker):
    def execute_job(self, job, queue):
        started = time.perf_counter()
        try:
            return super().execute_job(job, queue)
        finally:
            ended = time.perf_counter()
            with _lock:
                STATS["jobs"] += 1
                STATS["job_s"] += ended - started
                STATS["first_job_at"] = STATS["first_job_at"] or time.time() - (ended - started)
                STATS["last_job_at"] = time.time()
            global _written_at
            if ended - _written_at > 0.25:  # also now and then: a killed worker leaves its figures
                _written_at = ended
                _write_stats()


def _timed_step(step):
    def advance_scoring(*args, **kwargs):
        started = time.perf_counter()
        try:
            return step(*args, **kwargs)
        finally:
            _add(steps=1, step_s=time.perf_counter() - started)

    return advance_scoring


def _timed_container(build):
    def build_container(settings, **kwargs):
        container = build(settings, **kwargs)
        container.scoring_engine = TimedEngine(container.scoring_engine)
        return container

    return build_container


def _write_stats() -> None:
    path = os.environ.get("BENCH_WORKER_STATS")
    if path:
        with _lock:
            data = {**STATS, "pid": os.getpid()}
        with open(f"{path}.tmp", "w") as out:
            json.dump(data, out)
        os.replace(f"{path}.tmp", path)


def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    production_worker.SimpleWorker = TimedSimpleWorker
    production_worker.build_container = _timed_container(production_worker.build_container)
    scoring_job.advance_scoring = _timed_step(scoring_job.advance_scoring)
    try:
        production_worker.run_worker(settings)
    finally:
        _write_stats()


if __name__ == "__main__":
    main()
