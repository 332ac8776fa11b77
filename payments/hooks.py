"""What other apps may run after a payment change, without payments knowing them.

payments sits below the apps that react to its changes (disputes), so it cannot call them: an app
registers a callable here from its `AppConfig.ready()`, and the payment services call every one
after a capture has committed. A hook may be given as its dotted path: it is imported at the first
capture, so a process that never captures (a cold start answering a list) never imports it. A hook never undoes or fails the capture: an exception it raises is
logged and swallowed (the capture is stored and answered whatever the hook does)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

CaptureHook = Callable[[Any], None]  # called with the captured `Payment`, as it reads after the capture
_after_capture: list[CaptureHook | str] = []


def on_capture(hook: CaptureHook | str) -> None:
    """Run `hook(payment)` after every committed capture (an app's `ready()` calls this once); `hook`
    is the callable or its dotted path."""
    if hook not in _after_capture:
        _after_capture.append(hook)


def captured(payment: Any) -> None:
    """Run the capture hooks for `payment`, which was just captured (created captured, or captured later)."""
    for index, hook in enumerate(list(_after_capture)):
        try:
            if isinstance(hook, str):  # its first capture: imported once, kept as the callable
                hook = _after_capture[index] = import_string(hook)
            hook(payment)
        except Exception:
            logger.exception("payment %s: a capture hook failed", getattr(payment, "payment_id", "?"))
