"""Running the app: health checks, Prometheus metrics and log lines, for the operator.

- `metrics`: the process's registry and the counters/histograms the features move
- `collect`: the gauges read when `/metrics` is scraped
- `health`: liveness and readiness (`/healthz`, `/readyz`)
- `routes`: the three routes `serve.py` mounts, and who may read `/metrics`
- `logs`: one line per event, as text or JSON (`ABLT_LOG_FORMAT=json`)

docs/deploy.md says how a load balancer and Prometheus use them. Nothing is
imported here, so a feature importing `webapp.operations.metrics` does not
pull in the rest (and no import cycle forms).
"""
