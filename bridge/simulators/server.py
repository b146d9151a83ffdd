"""Serve a WSGI app on a loopback port in a background thread (tests, demo, `bridge simulate`)."""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType

from werkzeug.serving import BaseWSGIServer, make_server


class BackgroundServer:
    """A threaded werkzeug server on ``host:port`` (port 0 picks a free one).

    Use as a context manager, or call :meth:`start` / :meth:`stop`.
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        # A short poll interval makes stop() quick (the default 0.5 s adds up across test fixtures).
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True,
                                        name=f"wsgi:{self._server.server_port}")

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int:
        return self._server.server_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "BackgroundServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "BackgroundServer":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def stop_on_signals() -> None:
    """A simulator in the foreground stops on SIGINT and SIGTERM alike (KeyboardInterrupt, exit 0), also
    when it was started with SIGINT ignored, as a background job of a non-interactive shell is."""
    if threading.current_thread() is not threading.main_thread():
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupt)
