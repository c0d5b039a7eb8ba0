"""Batch prediction and upload inside data engines: :mod:`.ray` (Ray Data) and :mod:`.spark` (PySpark).

Each engine module needs its extra (``pip install 'clarifai-grpc-client[ray]'`` or ``[spark]``);
the work itself is :mod:`clarifai_grpc_client.batch`. The client a worker uses is given as a
:data:`~._workers.ClientSource`: ``None`` builds one from the worker's own ``CLARIFAI_*``
environment, a ``Client`` travels to the workers pickled (settings only), and a callable
builds one there.
"""

from ._workers import ClientSource, build_client, worker_client

__all__ = ["ClientSource", "build_client", "worker_client"]
