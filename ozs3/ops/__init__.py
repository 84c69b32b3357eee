"""Running the gateway as a service: metrics, audit log, admin HTTP port."""
