"""What other apps may run after a payment change, without payments knowing them.

payments sits below the apps that react to its changes (disputes), so it cannot call them: an app
registers a callable here from its `AppConfig.ready()`, and the payment services call every one
after a capture has committed. A hook never undoes or fails the capture: an exception it raises is
logged and swallowed (the capture is stored and answered whatever the hook does)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

CaptureHook = Callable[[Any], None]  # called with the captured `Payment`, as it reads after the capture
_after_capture: list[CaptureHook] = []


def on_capture(hook: CaptureHook) -> None:
    """Run `hook(payment)` after every committed capture (an app's `ready()` calls this once)."""
    if hook not in _after_capture:
        _after_capture.append(hook)


def captured(payment: Any) -> None:
    """Run the capture hooks for `payment`, which was just captured (created captured, or captured later)."""
    for hook in list(_after_capture):
        try:
            hook(payment)
        except Exception:
            logger.exception("payment %s: a capture hook failed", getattr(payment, "payment_id", "?"))
