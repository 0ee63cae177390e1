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
from collections.abc import Hashable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TypeVar

from server.printing.pdf import PdfJob, compile_job

K = TypeVar("K", bound=Hashable)

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
    if workers is None:
        small = expected is not None and expected < POOL_FROM
        workers = 1 if small else default_workers()
    if workers <= 1:
        for key, job in jobs:
            yield key, compile_job(job)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: dict[Future[bytes], K] = {}
        source = iter(jobs)
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < workers * 3:
                try:
                    key, job = next(source)
                except StopIteration:
                    exhausted = True
                    break
                pending[pool.submit(compile_job, job)] = key
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future.result()
