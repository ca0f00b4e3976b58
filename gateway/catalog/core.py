"""Kubernetes core, storage and networking kinds, and their links."""

from __future__ import annotations

from collections.abc import Callable

from gateway.catalog import refs
from gateway.catalog.declare import label_items, referrers, selected
from gateway.catalog.kinds import Kind, Object, namespace_of
from gateway.catalog.links import Catalog, Entity, Join, Query
from gateway.catalog.selectors import LabelSelector

# short names: kubectl's, as each resource declares them (kubernetes pkg/registry, the CRDs)
KINDS = (
    Kind("PersistentVolumeClaim", "", "v1", "persistentvolumeclaims", "pvcs", True, dependency="storage",
         short_names=("pvc",)),
    Kind("PersistentVolume", "", "v1", "persistentvolumes", "pvs", False, short_names=("pv",)),
    Kind("StorageClass", "storage.k8s.io", "v1", "storageclasses", "storageclasses", False, short_names=("sc",)),
    Kind("ConfigMap", "", "v1", "configmaps", "configmaps", True, dependency="config", short_names=("cm",)),
    Kind("Secret", "", "v1", "secrets", "secrets", True, dependency="config"),
    Kind("ServiceAccount", "", "v1", "serviceaccounts", "serviceaccounts", True, dependency="config",
         short_names=("sa",)),
    Kind("Pod", "", "v1", "pods", "pods", True, short_names=("po",)),
    Kind("Service", "", "v1", "services", "services", True, names="dns1035", short_names=("svc",)),
    Kind("Node", "", "v1", "nodes", "nodes", False, short_names=("no",)),
    Kind("Namespace", "", "v1", "namespaces", "namespaces", False, names="label", short_names=("ns",)),
    Kind("ControllerRevision", "apps", "v1", "controllerrevisions", "controllerrevisions", True, dependency="config"),
    Kind("NetworkAttachmentDefinition", "k8s.cni.cncf.io", "v1", "network-attachment-definitions",
         "networkattachmentdefinitions", True, dependency="network", short_names=("net-attach-def",)),
    Kind("IPAMClaim", "k8s.cni.cncf.io", "v1alpha1", "ipamclaims", "ipamclaims", True, dependency="network"),
    Kind("VolumeSnapshot", "snapshot.storage.k8s.io", "v1", "volumesnapshots", "volumesnapshots", True,
         dependency="storage", short_names=("vs",)),
)  # fmt: skip

PVC, POD, VM, VMI = "PersistentVolumeClaim", "Pod", "VirtualMachine", "VirtualMachineInstance"
_dig = refs.dig


def _publishing_data_source(e: Entity) -> Query:
    # golden images: a DataSource (in any namespace) whose spec.source.pvc is this PVC
    def publishes(ds: Object) -> bool:
        return _published_pvc(ds) == (e.namespace, e.name)

    return Query("DataSource", None, where=publishes)


def _published_pvc(ds: Object) -> tuple[str | None, object]:
    pvc = _dig(ds, "spec", "source", "pvc")
    return refs.text(_dig(pvc, "namespace")) or namespace_of(ds), _dig(pvc, "name")


def _service_pods(e: Entity) -> Query | None:
    selector = _dig(e.obj, "spec", "selector")
    if not isinstance(selector, dict) or not selector:
        return None  # a Service without a selector routes to no pod
    return Query(POD, e.namespace, LabelSelector.from_labels(selector))


def _service_vms(e: Entity) -> Query:
    selector = _dig(e.obj, "spec", "selector")
    return Query(
        VM,
        e.namespace,
        where=lambda vm: refs.labels_subset(selector, _dig(vm, "spec", "template", "metadata", "labels")),
    )


# batch joins: a match needs one shared key; the query then checks the rest
SELECTOR_TO_POD = Join(
    parent=lambda svc: label_items(_dig(svc.obj, "spec", "selector")),
    candidate=lambda pod: label_items(_dig(pod, "metadata", "labels")),
)
SELECTOR_TO_TEMPLATE = Join(
    parent=lambda svc: label_items(_dig(svc.obj, "spec", "selector")),
    candidate=lambda vm: label_items(_dig(vm, "spec", "template", "metadata", "labels")),
)
PUBLISHED_PVC = Join(parent=lambda pvc: [(pvc.namespace, pvc.name)], candidate=lambda ds: [_published_pvc(ds)])


# fmt: off
def add_links(c: Catalog, declared_here: Callable[[str], None]) -> None:
    """The links that compute; `declared_here(kind)` puts that kind's links of builtin.yaml in their place."""
    declared_here(PVC)
    c.add_link(PVC, selected("datasource", "DataSource", _publishing_data_source,
                             "the DataSource whose spec.source.pvc is this PVC (a golden image)",
                             many=False, absent_ok=True, pick=lambda e, found: found[:1],
                             join=PUBLISHED_PVC))
    c.add_link(PVC, referrers("vms", VM, "VirtualMachines that name this PVC (reverse of their links)"))
    c.add_link(PVC, referrers("vmis", VMI, "VirtualMachineInstances that name this PVC (reverse of their links)"))
    c.add_link(PVC, referrers("pods", POD, "Pods that mount this PVC (reverse of Pod.pvcs)"))

    c.add_link("Service", selected("pods", POD, _service_pods, "Pods matching spec.selector", join=SELECTOR_TO_POD))
    c.add_link("Service", selected("vms", VM, _service_vms,
                                   "VirtualMachines whose spec.template labels match spec.selector",
                                   join=SELECTOR_TO_TEMPLATE))

    for kind in ("Secret", "ConfigMap", "ServiceAccount", "NetworkAttachmentDefinition"):
        c.add_link(kind, referrers("vms", VM, "VirtualMachines that name this object (reverse of their links)"))
        c.add_link(kind, referrers("vmis", VMI, "VirtualMachineInstances that name this object, standalone ones "
                                   "included (reverse of their links)"))
# fmt: on
