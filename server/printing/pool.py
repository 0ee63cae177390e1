"""Many PDFs at once: Typst compiles in worker processes while the caller prepares the next.

The workers are started with `spawn`, never `fork`: a process forked after Typst has run in the
parent inherits its locks held and deadlocks. Each worker keeps one compiler for its life
(server/printing/pdf.py). Jobs are taken from the caller's iterator lazily and only a few are
in flight, so memory stays flat however many PDFs a school's year has; results come back in
the order they finish, each with the caller's key.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TypeVar

from server.printing.pdf import PdfJob, compile_job

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
R = TypeVar("R")

# below this many PDFs starting processes costs more than it saves
POOL_FROM = 24


def default_workers() -> int:
    return max(1, min(4, len(os.sched_getaffinity(0))))


def render_all(
    jobs: Iterable[tuple[K, PdfJob]],
    *,
    workers: int | None = None,
    expected: int | None = None,
) -> Iterator[tuple[K, bytes]]:
    """Compile every job; yields (key, PDF) as each is done. `workers=1` compiles in this
    process; None picks by the machine and by `expected` (how many jobs there will be)."""
    return run_all(compile_job, jobs, workers=workers, expected=expected)


def run_all(
    work: Callable[[T], R],
    tasks: Iterable[tuple[K, T]],
    *,
    workers: int | None = None,
    expected: int | None = None,
    initializer: Callable[..., None] | None = None,
    initargs: tuple = (),
    local: Callable[[T], R] | None = None,
    max_tasks_per_child: int | None = None,
    spawn: bool = False,
) -> Iterator[tuple[K, R]]:
    """`work(task)` for every task, in spawned workers (each set up once by `initializer`);
    yields (key, result) as each is done. In this process (`workers=1`, or few tasks) it is
    `local(task)` instead, when given: what the workers' initializer would have set up, the
    caller has at hand. `max_tasks_per_child` replaces a worker after that many tasks, which
    bounds what a long-lived worker's caches (Typst's) can grow to. `spawn` runs even one
    worker as a process of its own, so that what Typst keeps goes away with it."""
    if workers is None:
        small = expected is not None and expected < POOL_FROM
        workers = 1 if small else default_workers()
    if workers <= 1 and not spawn:
        run = local or work
        for key, task in tasks:
            yield key, run(task)
        return
    context = multiprocessing.get_context("spawn")
    workers = max(1, workers)
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=initializer,
        initargs=initargs,
        max_tasks_per_child=max_tasks_per_child,
    ) as pool:
        pending: dict[Future[R], K] = {}
        source = iter(tasks)
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < workers * 3:
                try:
                    key, task = next(source)
                except StopIteration:
                    exhausted = True
                    break
                pending[pool.submit(work, task)] = key
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future.result()
