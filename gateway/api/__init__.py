"""HTTP in, JSON out. No KubeVirt relationships here: views call `gateway.documents`."""
