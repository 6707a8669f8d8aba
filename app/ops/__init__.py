"""Operations: health checks, Prometheus metrics, structured logs with request ids, error tracking, usage."""
