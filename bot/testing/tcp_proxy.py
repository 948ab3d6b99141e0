"""A TCP proxy on 127.0.0.1 in front of a real server, that can cut a connection at the worst moment.

`cut_at_commit` makes the next connection that sends a PostgreSQL `COMMIT` die there: either before the
server sees it (the transaction is rolled back), or after the server has committed and answered, with the
answer never reaching the client (the client cannot tell whether its write landed). New connections pass
untouched, as after a network blip.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

COMMIT = b"COMMIT"


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target_host`:`target_port`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._cut: str | None = None
        self.cuts = 0
        self.port = 0

    async def __aenter__(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()

    def cut_at_commit(self, *, after_the_server_answers: bool) -> None:
        """Cut the next connection that sends COMMIT, before or after the server processed it."""
        self._cut = "after" if after_the_server_answers else "before"

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*self._target)
        committing = asyncio.Event()
        done = asyncio.Event()

        async def upstream() -> None:
            while data := await client_reader.read(65536):
                if self._cut is not None and COMMIT in data:
                    mode, self._cut = self._cut, None
                    self.cuts += 1
                    if mode == "before":
                        break
                    committing.set()
                server_writer.write(data)
                await server_writer.drain()
            done.set()

        async def downstream() -> None:
            while data := await server_reader.read(65536):
                if committing.is_set():
                    break  # the server has answered the COMMIT: the client never hears it
                client_writer.write(data)
                await client_writer.drain()
            done.set()

        tasks = [asyncio.create_task(upstream()), asyncio.create_task(downstream())]
        await done.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for writer in (client_writer, server_writer):
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
