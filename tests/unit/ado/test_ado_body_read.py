"""Answers are read whole, in one call, and a body cut short is a dropped connection."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from linesight_azure_devops.transport import _read_whole_body

BODY = b'{"value": [' + b",".join(b'{"id": %d}' % i for i in range(20_000)) + b"]}"


@pytest.fixture
def server() -> Iterator[tuple[str, list[bytes]]]:
    """A loopback HTTP server answering each connection with the next canned answer."""
    answers: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                if answers:
                    conn.sendall(answers.pop(0))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/", answers
    listener.close()


def head(length: int, extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n"
        f"{extra}Connection: close\r\n\r\n"
    ).encode()


def test_the_whole_body_is_read_at_once(server: tuple[str, list[bytes]]) -> None:
    url, answers = server
    answers.append(head(len(BODY)) + BODY)
    response = requests.get(url, stream=True, timeout=10)
    _read_whole_body(response)
    assert response._content_consumed
    assert response.content == BODY and response.json()["value"][-1] == {"id": 19_999}


def test_a_compressed_body_is_decoded(server: tuple[str, list[bytes]]) -> None:
    url, answers = server
    packed = gzip.compress(BODY)
    answers.append(head(len(packed), "Content-Encoding: gzip\r\n") + packed)
    response = requests.get(url, stream=True, timeout=10)
    _read_whole_body(response)
    assert response.content == BODY


def test_a_body_cut_short_is_a_connection_error(server: tuple[str, list[bytes]]) -> None:
    url, answers = server
    answers.append(head(len(BODY)) + BODY[: len(BODY) // 2])
    response = requests.get(url, stream=True, timeout=10)
    with pytest.raises(requests.exceptions.ConnectionError):
        _read_whole_body(response)
