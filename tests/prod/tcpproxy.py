"""A TCP forwarder the tests can switch off and on, to simulate a PostgreSQL or Redis outage.

The production profile under test connects to PostgreSQL and Redis through two of these
(on ephemeral 127.0.0.1 ports), so an outage of the *shared* servers can be simulated
without stopping them: `down()` closes the listening socket and aborts every open
connection (clients see "connection refused" / "connection reset"), `up()` listens again
on the same port.
"""

from __future__ import annotations

import asyncio
import threading


class TcpProxy:
    """127.0.0.1:<port> -> target_host:target_port, in a background event loop."""

    def __init__(self, target_host: str, target_port: int, port: int = 0) -> None:
        """Nothing listens before start()."""
        self.target = (target_host, target_port)
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"tcpproxy-{target_port}", daemon=True
        )
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.connections = 0

    # -- control (called from the test thread) ---------------------------------------------
    def start(self) -> TcpProxy:
        """Start the loop and listen."""
        self._thread.start()
        self.up()
        return self

    def up(self) -> None:
        """Listen (again) and accept connections."""
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)

    def down(self) -> None:
        """Refuse new connections and cut the open ones."""
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)

    def close(self) -> None:
        """Stop everything."""
        self.down()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    @property
    def is_up(self) -> bool:
        """True while listening."""
        return self._server is not None

    # -- inside the loop ---------------------------------------------------------------------
    async def _listen(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            self._writers.discard(writer)
            self._writers.discard(up_writer)
