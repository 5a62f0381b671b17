"""Operations: health, readiness and Prometheus metrics of the action server and the Rasa server."""
