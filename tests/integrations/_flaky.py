"""Work that fails once, partway: the engines' retries must then store nothing twice.

The first attempt at the batch holding ``marker`` uploads the first half of it, leaves ``flag``
on disk and dies (Ray: the worker process exits; Spark: the task raises). The retry, seeing the
flag, runs normally. Importable by the engines' workers (they load it by name).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from clarifai_grpc_client.integrations.ray import Uploader


def _first_time(flag: str) -> bool:
    try:
        fd = os.open(flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.close(fd)
    return True


class CrashOnceUploader(Uploader):
    """An :class:`Uploader` whose worker process exits after uploading half of the marker's batch."""

    def __init__(self, *, marker: str, flag: str, **options: Any) -> None:
        super().__init__(**options)
        self._marker, self._flag = marker, flag

    def __call__(self, batch: Any) -> Any:
        texts = batch.column("text").to_pylist()
        if self._marker in texts and not os.path.exists(self._flag):
            super().__call__(batch.slice(0, len(texts) // 2))
            if _first_time(self._flag):
                os._exit(17)
        return super().__call__(batch)


def fail_once(work: Callable[[Iterator[Any]], Iterator[Any]], marker: str, flag: str) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """A Spark partition function: ``work``, except that the first attempt at the marker's batch
    uploads half of it and raises."""

    def partition(batches: Iterator[Any]) -> Iterator[Any]:
        for batch in batches:
            texts = batch.column("text").to_pylist()
            if marker in texts and not os.path.exists(flag):
                for _ in work(iter([batch.slice(0, len(texts) // 2)])):
                    pass
                if _first_time(flag):
                    raise RuntimeError("injected failure after half of a partition was uploaded")
            yield from work(iter([batch]))

    return partition
