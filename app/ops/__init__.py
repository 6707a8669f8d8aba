"""Operations: health, Prometheus metrics, structured logs with request ids, error tracking, the usage dashboard."""
