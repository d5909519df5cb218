"""``--trace FILE``: every event of a run as one JSON line.

Lines are flushed as they happen into ``FILE.partial`` (so a crashed run still leaves
its trace to read), and the file takes its final name when the run ends, however it
ends. A reader never sees a half-written ``FILE``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO

from foreplan.events import Event


class TraceWriter:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = self.partial.open("w", encoding="utf-8")

    def write(self, event: Event) -> None:
        if self._file is None:
            return
        self._file.write(json.dumps(event.to_dict(), ensure_ascii=False, default=str) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            os.replace(self.partial, self.path)
