"""The API and the pages on AWS Lambda: Django's WSGI application behind an API Gateway HTTP API
(payload format 2.0), through apig-wsgi. Responses whose content type is not text or JSON (images,
fonts, compressed static files) go back base64-encoded.

Cold start: Python's cyclic garbage collector is off while the process imports Django, the apps and
the URLconf (which the first request loads), and those objects are then frozen out of its reach
(`gc.freeze`). Importing creates many objects and no garbage, so every collection in that time is
wasted; turning it off took the first answer of a fresh process from 1.76 s to 1.47 s (median of
10, README "Lambda"). The collector runs as usual from the end of the first request. This happens in
a Lambda runtime only (it names the function in `AWS_LAMBDA_FUNCTION_NAME`): any other process that
imports the module, a test or a script, keeps its collector, since nothing would turn it back on.
"""

from __future__ import annotations

import gc
import os

_COLLECTOR_HELD = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and gc.isenabled()
if _COLLECTOR_HELD:
    gc.disable()

from typing import Any  # noqa: E402

from apig_wsgi import make_lambda_handler  # noqa: E402

from paysite.wsgi import application  # noqa: E402

_wsgi_handler = make_lambda_handler(application, binary_support=True)

# After Django is set up by `paysite.wsgi` (the log's table reads the settings).
from apilog.services import api_requests_batched  # noqa: E402

_cold = True


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _cold
    try:
        with api_requests_batched():  # the request log: one batch write as the invocation ends
            return _wsgi_handler(event, context)
    finally:
        if _cold:
            _cold = False
            if _COLLECTOR_HELD:
                gc.freeze()
                gc.enable()
