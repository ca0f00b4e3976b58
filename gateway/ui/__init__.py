"""Static pages served by the gateway."""
