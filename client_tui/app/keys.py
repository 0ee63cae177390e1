"""Keys in the order they were typed, each finished before the next begins.

Textual hands a key to the focused widget through its message queue; an unhandled key
bubbles up queue by queue and meets the app's bindings (Enter, Tab, F2) only when it is
back at the end of the app's own queue, behind every key typed after it. So in a burst
(`4 Enter 5 Enter` from a fast typist, a paste, a slow laptop) every mark landed in the
first cell while the cursor moved down later, and a dialog's Tab came after all its text.

Here the app walks each key through the focus chain itself, at once, then through the
bindings, and holds the next key until what the last one set going has landed: a moved
cursor, a dialog mounted and focused. Keys typed one by one pay nothing: the screen is
already settled when each arrives.
"""

from __future__ import annotations

import time
from collections import deque

from textual import events, messages
from textual.app import App
from textual.message_pump import MessagePump

SETTLE_POLL = 0.002  # seconds between checks while a held key waits
MAX_HOLD = 0.5  # a widget that never goes quiet (an animation) must not freeze the keyboard


class InOrderKeys(App):
    """An App whose key and paste events are applied strictly in arrival order."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._held: deque[events.Key | events.Paste] = deque()
        self._release_scheduled = False
        self._waiting_since: float | None = None

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            self._held.append(event)
            if len(self._held) == 1 and not self._release_scheduled:
                await self._release_keys()
            return
        await super().on_event(event)

    async def _release_keys(self) -> None:
        self._release_scheduled = False
        while self._held:
            if not self._screen_stack or self._exit or self._closing:
                self._held.clear()  # the app is closing: nothing left to type into
                return
            if not self._settled():
                now = time.monotonic()
                if self._waiting_since is None:
                    self._waiting_since = now
                if now - self._waiting_since < MAX_HOLD:
                    self._release_scheduled = True
                    self.set_timer(SETTLE_POLL, self._release_keys)
                    return
            self._waiting_since = None
            event = self._held.popleft()
            await self._deliver(event)

    def _settled(self) -> bool:
        """Nothing the previous key set going is still queued on the current screen (a
        repaint request is not something a key set going: it changes no state)."""
        screen = self.screen
        if not screen.is_mounted:
            return False
        nodes: list[MessagePump] = [screen, *screen.walk_children()]
        return all(_only_repaints(node) for node in nodes)

    @property
    def keys_waiting(self) -> int:
        """Keys received and not yet applied (a harness waits for none before it moves on)."""
        return len(self._held)

    async def _deliver(self, event: events.Key | events.Paste) -> None:
        self.app_focus = True
        if isinstance(event, events.Key) and await self._check_bindings(event.key, priority=True):
            return
        event._set_forwarded()
        event.bubble = False  # we walk the chain here, now, instead of through the queues
        node: MessagePump | None = self.focused or self.screen
        while node is not None and node is not self:
            await node._dispatch_message(event)
            if event._stop_propagation:
                return
            node = node._parent
        await super().on_event(event)  # the app's own handlers and the non-priority bindings


def _only_repaints(node: MessagePump) -> bool:
    queue = node._message_queue
    if queue.empty():
        return True
    queued = getattr(queue, "values", None)  # Textual's own small queue keeps a deque here
    return queued is not None and all(isinstance(m, REPAINTS) for m in list(queued))


REPAINTS = (messages.Prompt, messages.Update, messages.UpdateScroll, messages.Layout, events.Idle)
