"""Graphs: KubeVirt's object graph and the application graph, built from catalogue links.

They read the store through the follow engine's resolution (batch handlers included), so a
graph of a whole namespace costs one read per kind per step, and they import neither Flask
nor the Kubernetes client.
"""
