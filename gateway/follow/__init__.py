"""Follow: parse `?follow=` into a LinkTree and walk it over a Store.

Pure of HTTP and of the Kubernetes client: it reads the catalogue and a `Store`.
"""
