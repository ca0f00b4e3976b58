"""Kubernetes core, storage and networking kinds, and their links."""

from __future__ import annotations

from gateway.catalog import refs
from gateway.catalog.kinds import Kind, ObjectRef, namespace_of
from gateway.catalog.links import Catalog, Entity, Join, Link, Named, Query, Referrers, Selected
from gateway.selectors import LabelSelector

KINDS = (
    Kind("PersistentVolumeClaim", "", "v1", "persistentvolumeclaims", "pvcs", True),
    Kind("PersistentVolume", "", "v1", "persistentvolumes", "pvs", False),
    Kind("StorageClass", "storage.k8s.io", "v1", "storageclasses", "storageclasses", False),
    Kind("ConfigMap", "", "v1", "configmaps", "configmaps", True),
    Kind("Secret", "", "v1", "secrets", "secrets", True),
    Kind("ServiceAccount", "", "v1", "serviceaccounts", "serviceaccounts", True),
    Kind("Pod", "", "v1", "pods", "pods", True),
    Kind("Service", "", "v1", "services", "services", True),
    Kind("Node", "", "v1", "nodes", "nodes", False),
    Kind("ControllerRevision", "apps", "v1", "controllerrevisions", "controllerrevisions", True),
    Kind(
        "NetworkAttachmentDefinition",
        "k8s.cni.cncf.io",
        "v1",
        "network-attachment-definitions",
        "networkattachmentdefinitions",
        True,
    ),
    Kind("IPAMClaim", "k8s.cni.cncf.io", "v1alpha1", "ipamclaims", "ipamclaims", True),
)

_dig, _ref = refs.dig, refs.ref


def _publishing_data_source(e: Entity) -> Query:
    # golden images: a DataSource (in any namespace) whose spec.source.pvc is this PVC
    ns, name = e.namespace, e.name

    def publishes(ds: dict[str, object]) -> bool:
        pvc = _dig(ds, "spec", "source", "pvc")
        return _dig(pvc, "name") == name and (refs.text(_dig(pvc, "namespace")) or namespace_of(ds)) == ns

    return Query("DataSource", None, where=publishes)


def _pod_claims(e: Entity) -> list[ObjectRef]:
    return [
        r
        for v in refs.maps(_dig(e.obj, "spec", "volumes"))
        for r in _ref("PersistentVolumeClaim", e.namespace, _dig(v, "persistentVolumeClaim", "claimName"))
    ]


def _service_pods(e: Entity) -> Query | None:
    selector = _dig(e.obj, "spec", "selector")
    if not isinstance(selector, dict) or not selector:
        return None  # a Service without a selector routes to no pod
    return Query("Pod", e.namespace, LabelSelector.from_labels(selector))


def _service_vms(e: Entity) -> Query | None:
    selector = _dig(e.obj, "spec", "selector")
    return Query(
        "VirtualMachine",
        e.namespace,
        where=lambda vm: refs.labels_subset(selector, _dig(vm, "spec", "template", "metadata", "labels")),
    )


def _items(labels: object) -> list[tuple[object, object]]:
    return list(labels.items()) if isinstance(labels, dict) else []


# joins for batches: a match needs one shared key, the query then checks the rest
SELECTOR_TO_LABELS = Join(
    parent=lambda svc: _items(_dig(svc.obj, "spec", "selector")),
    candidate=lambda pod: _items(_dig(pod, "metadata", "labels")),
)
SELECTOR_TO_TEMPLATE = Join(
    parent=lambda svc: _items(_dig(svc.obj, "spec", "selector")),
    candidate=lambda vm: _items(_dig(vm, "spec", "template", "metadata", "labels")),
)
PUBLISHED_PVC = Join(
    parent=lambda pvc: [(pvc.namespace, pvc.name)],
    candidate=lambda ds: [
        (
            refs.text(_dig(ds, "spec", "source", "pvc", "namespace")) or namespace_of(ds),
            _dig(ds, "spec", "source", "pvc", "name"),
        )
    ],
)


def add_links(c: Catalog) -> None:
    pvc, pod = "PersistentVolumeClaim", "Pod"
    c.add_link(
        pvc,
        Link(
            "pv",
            ("PersistentVolume",),
            False,
            Named(lambda e: _ref("PersistentVolume", None, _dig(e.obj, "spec", "volumeName"))),
            "spec.volumeName",
        ),
    )
    c.add_link(
        pvc,
        Link(
            "storageclass",
            ("StorageClass",),
            False,
            Named(lambda e: _ref("StorageClass", None, _dig(e.obj, "spec", "storageClassName"))),
            "spec.storageClassName",
        ),
    )
    c.add_link(
        pvc,
        Link(
            "datavolume",
            ("DataVolume",),
            False,
            Named(lambda e: _ref("DataVolume", e.namespace, refs.owner(e.obj, "DataVolume"))),
            "the DataVolume in metadata.ownerReferences",
        ),
    )
    c.add_link(
        pvc,
        Link(
            "datasource",
            ("DataSource",),
            False,
            Selected(
                _publishing_data_source, pick=lambda e, found: found[:1], optional=True, join=PUBLISHED_PVC
            ),
            "the DataSource whose spec.source.pvc is this PVC (a golden image)",
        ),
    )
    c.add_link(
        pvc,
        Link(
            "vms",
            ("VirtualMachine",),
            True,
            Referrers("VirtualMachine"),
            "VirtualMachines that name this PVC (reverse of their links)",
        ),
    )
    c.add_link(
        pvc,
        Link("pods", (pod,), True, Referrers(pod), "Pods that mount this PVC (reverse of Pod.pvcs)"),
    )

    c.add_link(
        "PersistentVolume",
        Link(
            "storageclass",
            ("StorageClass",),
            False,
            Named(lambda e: _ref("StorageClass", None, _dig(e.obj, "spec", "storageClassName"))),
            "spec.storageClassName",
        ),
    )
    c.add_link(
        "PersistentVolume",
        Link(
            "pvc",
            (pvc,),
            False,
            Named(
                lambda e: _ref(
                    pvc,
                    _dig(e.obj, "spec", "claimRef", "namespace"),
                    _dig(e.obj, "spec", "claimRef", "name"),
                )
            ),
            "spec.claimRef",
        ),
    )

    c.add_link(
        pod,
        Link(
            "node",
            ("Node",),
            False,
            Named(lambda e: _ref("Node", None, _dig(e.obj, "spec", "nodeName"))),
            "spec.nodeName",
        ),
    )
    c.add_link(
        pod,
        Link(
            "vmi",
            ("VirtualMachineInstance",),
            False,
            Named(
                lambda e: _ref(
                    "VirtualMachineInstance",
                    e.namespace,
                    refs.owner(e.obj, "VirtualMachineInstance"),
                )
            ),
            "the VirtualMachineInstance in metadata.ownerReferences",
        ),
    )
    c.add_link(
        pod,
        Link(
            "pvcs",
            (pvc,),
            True,
            Named(_pod_claims),
            "spec.volumes[].persistentVolumeClaim.claimName",
        ),
    )
    c.add_link(
        pod,
        Link(
            "serviceaccount",
            ("ServiceAccount",),
            False,
            Named(lambda e: _ref("ServiceAccount", e.namespace, _dig(e.obj, "spec", "serviceAccountName"))),
            "spec.serviceAccountName",
        ),
    )

    c.add_link(
        "Service",
        Link(
            "pods",
            (pod,),
            True,
            Selected(_service_pods, join=SELECTOR_TO_LABELS),
            "Pods matching spec.selector",
        ),
    )
    c.add_link(
        "Service",
        Link(
            "vms",
            ("VirtualMachine",),
            True,
            Selected(_service_vms, join=SELECTOR_TO_TEMPLATE),
            "VirtualMachines whose spec.template labels match spec.selector",
        ),
    )

    for kind in ("Secret", "ConfigMap", "ServiceAccount", "NetworkAttachmentDefinition"):
        c.add_link(
            kind,
            Link(
                "vms",
                ("VirtualMachine",),
                True,
                Referrers("VirtualMachine"),
                "VirtualMachines that name this object (reverse of their links)",
            ),
        )
