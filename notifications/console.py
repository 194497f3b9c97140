"""A channel that writes messages to a stream or the log: demos and development."""

from __future__ import annotations

import itertools
import logging
import threading
from typing import TextIO

from notifications.message import Channel, Message, Receipt

logger = logging.getLogger("notifications.console")


class ConsoleChannel(Channel):
    """Writes one line per message; never fails."""

    def __init__(self, stream: TextIO | None = None, name: str = "console") -> None:
        self.name = name
        self._stream = stream
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def send(self, message: Message) -> Receipt:
        body = message.body.replace("\r", "").replace("\n", " ⏎ ")
        with self._lock:
            number = next(self._numbers)
            if self._stream is None:
                logger.info("%s %s %s", message.channel, message.recipient, body)
            else:
                self._stream.write(f"{message.channel} {message.recipient} {body}\n")
                self._stream.flush()
        return Receipt(provider_id=f"console-{number}", status="delivered")
