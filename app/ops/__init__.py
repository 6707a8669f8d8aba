"""Operations: health and readiness probes."""
