"""What the platform (gunicorn's master) and its instances (the workers) know of each other.

A table in memory shared across fork, one row per instance: its state, its requests in flight
and when it last served. Each instance writes only its own row, from its event loop; the
platform reads every row to apply the FC rule, and moves a row to RELEASING or back to FREE.
"""

import ctypes
import time
from multiprocessing.sharedctypes import RawArray

FREE, STARTING, READY, FAILED, RELEASING = range(5)
LIVE = (STARTING, READY, FAILED)  # what the FC rule counts as an instance


class Slot(ctypes.Structure):
    _fields_ = [
        ("pid", ctypes.c_int),
        ("state", ctypes.c_int),
        ("in_flight", ctypes.c_int),  # requests handed to the instance's threads, not answered
        ("clients", ctypes.c_int),  # its connections: requests in flight, coming in, kept alive
        ("last_active", ctypes.c_double),  # time.monotonic(), the same clock in every process
    ]

    def take(self) -> None:
        self.pid, self.state, self.in_flight, self.clients = 0, STARTING, 0, 0
        self.last_active = time.monotonic()

    def idle_for(self, now: float) -> float:
        return 0.0 if self.in_flight else now - self.last_active


class SlotTable:
    def __init__(self, size: int) -> None:
        # Allocated before any fork, so every instance sees the same memory.
        self.rows = RawArray(Slot, size)

    def claim(self) -> Slot | None:
        """A free row for a new instance, or None when every row is taken."""
        for slot in self.rows:
            if slot.state == FREE:
                slot.take()
                return slot
        return None

    def forget_exited(self, pids) -> None:
        """Frees the rows of instances that have exited (the platform has reaped them)."""
        for slot in self.rows:
            if slot.state != FREE and slot.pid not in pids:
                slot.state = FREE

    def empty(self) -> bool:
        """No instance at all, not even one being released."""
        return all(slot.state == FREE for slot in self.rows)

    def live(self) -> list[Slot]:
        return [slot for slot in self.rows if slot.state in LIVE]

    def count(self, state: int) -> int:
        return sum(1 for slot in self.rows if slot.state == state)

    def in_flight(self) -> int:
        return sum(slot.in_flight for slot in self.rows if slot.state != FREE)
