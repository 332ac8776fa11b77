"""AWS Lambda entry points; `manage.py sam` writes the template that deploys each as a function.

- `web.handler`: the API and the pages behind an API Gateway HTTP API.
- `jobs.tasks`, `jobs.seal`, `jobs.recover`, `jobs.webhook_sweep`: the task worker and the periodic
  jobs, each invoked by a schedule; `jobs.manage`: deployment steps (`migrate`, the first ops user).

Two modules, so that the web function's cold start imports nothing of the worker and the jobs.
The S3 settlement handler lives in its app: `reconciliation.handlers.s3_event`.
`search_stream.handler`: the search index from the payments and customers tables' DynamoDB streams.
"""
