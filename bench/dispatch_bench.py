"""What Channels' per-message database hop costs a socket process (not a test).

Channels' ``AsyncConsumer.dispatch`` awaits ``aclose_old_connections()`` before every
handler: a hop to the one thread that runs the process's synchronous code, and back. An
agents' event reaches every agent socket of the process, so one event makes as many hops,
one after another on that thread. ``chat.live.base.LiveConsumer.dispatch`` skips the hop
(its database calls go through ``database_sync_to_async``, which closes stale connections
itself). This delivers E events to each of N sockets of one process both ways and prints
how long each event took to reach every socket and the CPU the process spent.

    .venv/bin/python bench/dispatch_bench.py                     # 200 sockets, 50 events
    .venv/bin/python bench/dispatch_bench.py --sockets 400 --events 100 --rounds 5
"""

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jtchat.settings")
    os.environ.setdefault("DEBUG", "1")
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


async def fan_out(consumers, dispatch, events: int) -> list[float]:
    """Seconds until each event was handled by every socket (all sockets at once, as the
    process's socket tasks would)."""
    took = []
    for number in range(events):
        message = {"type": "chat.event", "event": {"type": "message", "n": number}}
        started = time.perf_counter()
        await asyncio.gather(*(dispatch(consumer, message) for consumer in consumers))
        took.append(time.perf_counter() - started)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    setup_django()

    from asgiref.sync import sync_to_async
    from channels.consumer import AsyncConsumer
    from django.db import connection

    from chat.live.base import LiveConsumer

    class Socket(LiveConsumer):
        """A socket as the dispatch sees it: greeted, live, counting what it handled."""

        def __init__(self):
            super().__init__()
            self.channel_layer = None
            self.closing = False
            self.layer_reconnections = 0
            self.handled = 0

        async def chat_event(self, message):
            self.handled += 1

    dispatches = {
        "Channels' AsyncConsumer.dispatch": AsyncConsumer.dispatch,
        "LiveConsumer.dispatch (no hop)": LiveConsumer.dispatch,
    }

    async def run() -> None:
        # The sync thread holds a database connection, as it does in a socket process.
        await sync_to_async(connection.ensure_connection)()
        results = {name: [] for name in dispatches}
        for _ in range(args.rounds):
            for name, dispatch in dispatches.items():
                consumers = [Socket() for _ in range(args.sockets)]
                cpu = time.process_time()
                took = await fan_out(consumers, dispatch, args.events)
                cpu = time.process_time() - cpu
                assert all(consumer.handled == args.events for consumer in consumers)
                results[name].append((statistics.median(took), max(took), cpu))
        print(
            f"{args.sockets} sockets, {args.events} events each, median of {args.rounds} rounds; "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        print("| dispatch | one event to every socket, median / max | CPU per event per socket |")
        print("|---|---:|---:|")
        for name, rounds in results.items():
            median = sorted(rounds)[(len(rounds) - 1) // 2]
            per_delivery = 1e6 * median[2] / (args.sockets * args.events)
            print(f"| {name} | {1000 * median[0]:.1f} / {1000 * median[1]:.1f} ms | {per_delivery:.0f} µs |")

    asyncio.run(run())


if __name__ == "__main__":
    main()
