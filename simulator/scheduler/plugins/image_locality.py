"""ImageLocality (plugins/imagelocality/image_locality.go): favours nodes that already have the pod's
images, scaled by how widely each image is spread, between 23 MB and 1000 MB per container."""
from ..framework import MAX_NODE_SCORE, ScorePlugin

NAME = "ImageLocality"
MB = 1024 * 1024
MIN_THRESHOLD = 23 * MB
MAX_CONTAINER_THRESHOLD = 1000 * MB


def normalized_image_name(name: str) -> str:
    """An image without a tag gets ":latest". Only the tag is added: the name is then looked up as is
    among the names the node reports (containerd reports e.g. docker.io/library/nginx:latest)."""
    last = name.rsplit("/", 1)[-1]
    return name if (":" in last or "@" in name) else name + ":latest"


class ImageLocality(ScorePlugin):
    NAME = NAME

    def __init__(self, total_nodes: int = 0):
        self.total_nodes = total_nodes

    def score(self, state, pod, node_info) -> int:
        total_nodes = state.get("total_nodes", 1) or 1
        containers = pod["spec"].get("containers", [])
        s = 0
        for c in containers:
            st = node_info.image_states.get(normalized_image_name(c["image"]))
            if st:
                spread = st.num_nodes / total_nodes
                s += int(st.size * spread)
        max_threshold = MAX_CONTAINER_THRESHOLD * len(containers)
        s = min(max(s, MIN_THRESHOLD), max_threshold)
        return MAX_NODE_SCORE * (s - MIN_THRESHOLD) // (max_threshold - MIN_THRESHOLD)
