"""What many test modules need: ports, polling, kubeconfigs, and the test API servers."""
