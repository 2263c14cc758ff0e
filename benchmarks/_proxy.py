"""A small HTTP/1.1 proxy on 127.0.0.1 for the benchmarks: it counts connections and requests and can
add latency (each request reaches the server ``delay`` seconds after the client sent it).

    with LatencyProxy("127.0.0.1", 8080, delay=0.020) as proxy:
        proxy.url        # "http://127.0.0.1:PORT"
        proxy.requests   # requests seen so far; proxy.connections: TCP connections accepted

Bytes pass through unchanged; the client-to-server stream is read to count requests (a head up to
the blank line, then Content-Length bytes of body; a chunked request body is not supported).
"""

from __future__ import annotations

import asyncio
import threading


class RequestCounter:
    """Counts complete request heads in a client's byte stream (keep-alive: one after another)."""

    def __init__(self) -> None:
        self.buf = b""
        self.body_left = 0

    def feed(self, data: bytes) -> int:
        count = 0
        self.buf += data
        while True:
            if self.body_left:
                take = min(self.body_left, len(self.buf))
                self.buf, self.body_left = self.buf[take:], self.body_left - take
                if self.body_left:
                    return count
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return count
            head, self.buf = self.buf[:end].lower(), self.buf[end + 4:]
            count += 1
            if b"transfer-encoding: chunked" in head:
                raise ValueError("chunked request bodies are not supported by the benchmark proxy")
            for line in head.split(b"\r\n")[1:]:
                if line.startswith(b"content-length:"):
                    self.body_left = int(line.split(b":", 1)[1])


class LatencyProxy:
    def __init__(self, host: str, port: int, delay: float = 0.0):
        self.upstream = (host, port)
        self.delay = delay
        self.connections = 0
        self.requests = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="bench-proxy", daemon=True)
        self.url = ""

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy did not start")
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _shutdown(self) -> None:
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def reset(self) -> None:
        with self._lock:
            self.connections = self.requests = 0

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._relay(reader, writer)
        except asyncio.CancelledError:  # the proxy is closing: end quietly
            writer.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        queue: asyncio.Queue = asyncio.Queue()
        try:
            await asyncio.gather(self._read_client(reader, queue), self._deliver(queue, up_writer),
                                 self._pipe(up_reader, writer), return_exceptions=True)
        finally:
            for w in (writer, up_writer):
                w.close()

    async def _read_client(self, reader: asyncio.StreamReader, queue: asyncio.Queue) -> None:
        counter = RequestCounter()
        loop = asyncio.get_running_loop()
        try:
            while data := await reader.read(65536):
                n = counter.feed(data)
                if n:
                    with self._lock:
                        self.requests += n
                await queue.put((loop.time() + self.delay, data))
        finally:
            await queue.put(None)

    async def _deliver(self, queue: asyncio.Queue, up_writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        while (item := await queue.get()) is not None:
            at, data = item
            if at > loop.time():
                await asyncio.sleep(at - loop.time())
            up_writer.write(data)
            await up_writer.drain()
        if up_writer.can_write_eof():
            up_writer.write_eof()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()
