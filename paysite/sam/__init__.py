"""The AWS SAM template of the whole deployment (`manage.py sam`, `make template`), made from the code.

- **Tables**: the CloudFormation of `manage.py dynamodb template` (every `TableModel` of the
  installed apps), each created unless `CreateTables` is `false` (the tables of an existing stack).
- **Functions**: `FUNCTIONS` declares each one: its handler, what invokes it, and per app the verbs
  it uses (`read`, `append`, `write`, `scan`, `describe`). Its IAM policy is generated from that: the
  ARNs of exactly the tables and indexes of those apps' models and exactly the verbs' actions, so a
  new model reaches the functions that serve its app, and nothing else, the day it is added.
  `tests/deploy/test_template.py` runs each function's code path and fails when it makes a call its
  policy would refuse.
- **Buckets**: settlement files (encrypted, public access blocked, versioned, TLS only; S3 events on
  `INBOUND_PREFIX` only) and the audit anchors (the same, plus Object Lock in compliance mode).
- **Network and secrets**: every function in the VPC of the parameters (to reach PostgreSQL and
  Redis), gateway endpoints for DynamoDB and S3, and the secrets as Secrets Manager references that
  CloudFormation resolves when it deploys; the template holds none.
"""

from paysite.sam.functions import CODE_URI, EVERY_APP, FUNCTIONS, SECRET_VARIABLES, Function, Objects
from paysite.sam.template import sam_template, sam_template_yaml

__all__ = [
    "CODE_URI",
    "EVERY_APP",
    "FUNCTIONS",
    "SECRET_VARIABLES",
    "Function",
    "Objects",
    "sam_template",
    "sam_template_yaml",
]
