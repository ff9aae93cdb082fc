"""The scheduler's plugins, one per module, each with NAME (pkg/scheduler/framework/plugins/*).

Default profile (pkg/scheduler/apis/config/v1/default_plugins.go, MultiPoint, unchanged since v1.25):
PrioritySort (queue sort), then filters in the order NodeUnschedulable, NodeName, TaintToleration,
NodeAffinity, NodePorts, NodeResourcesFit, (VolumeRestrictions, NodeVolumeLimits, VolumeBinding, VolumeZone:
no volumes here), PodTopologySpread, InterPodAffinity; DefaultPreemption as PostFilter; score weights
TaintToleration 3, NodeAffinity 2, NodeResourcesFit 1, PodTopologySpread 2, InterPodAffinity 2,
NodeResourcesBalancedAllocation 1, ImageLocality 1; DefaultBinder binds.
"""
from .node_unschedulable import NodeUnschedulable
from .node_name import NodeName
from .taint_toleration import TaintToleration
from .node_affinity import NodeAffinity
from .node_ports import NodePorts
from .node_resources_fit import NodeResourcesFit
from .pod_topology_spread import PodTopologySpread
from .inter_pod_affinity import InterPodAffinity
from .balanced_allocation import NodeResourcesBalancedAllocation
from .image_locality import ImageLocality


def default_filter_plugins():
    return [NodeUnschedulable(), NodeName(), TaintToleration(), NodeAffinity(), NodePorts(), NodeResourcesFit(),
            PodTopologySpread(), InterPodAffinity()]


def default_score_plugins():
    """(plugin, weight) in MultiPoint order."""
    return [(TaintToleration(), 3), (NodeAffinity(), 2), (NodeResourcesFit(), 1), (PodTopologySpread(), 2),
            (InterPodAffinity(), 2), (NodeResourcesBalancedAllocation(), 1), (ImageLocality(), 1)]
