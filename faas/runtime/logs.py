"""The runtime's own log: one JSON object per line on stderr, through the logging module."""

import json
import logging
import os
import sys
from datetime import UTC, datetime

LOGGER_NAME = "fc.runtime"
# Fields a LogRecord always has; anything else came in through `extra=` and is logged as is.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": os.getpid(),
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def get_logger() -> logging.Logger:
    """The runtime logger, writing JSON lines to stderr (set up once per process)."""
    logger = logging.getLogger(LOGGER_NAME)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        # gunicorn's and the function's own logging setup must not print these lines twice.
        logger.propagate = False
    return logger
