"""API defaulting for Pods, applied when the request body is decoded, before admission
(pkg/apis/core/v1/defaults.go: SetDefaults_Pod, SetDefaults_PodSpec, SetDefaults_Container).
Returns the list of fields it set, for the narration."""
from __future__ import annotations


def image_tag(image: str) -> str:
    """The tag as docker reference parsing sees it: "latest" when absent, "" for a digest reference."""
    if "@" in image:
        return ""
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def default_pull_policy(image: str) -> str:
    # SetDefaults_Container: Always for ":latest" (or no tag, which means latest), else IfNotPresent.
    return "Always" if image_tag(image) == "latest" else "IfNotPresent"


def set_defaults_pod(pod: dict) -> list[str]:
    changes: list[str] = []
    spec = pod.setdefault("spec", {})

    def default(obj: dict, key: str, value, path: str) -> None:
        if key not in obj or obj[key] in (None, ""):
            obj[key] = value
            changes.append(f"{path}={value if not isinstance(value, dict) else '{}'}")

    default(spec, "restartPolicy", "Always", "spec.restartPolicy")
    default(spec, "terminationGracePeriodSeconds", 30, "spec.terminationGracePeriodSeconds")
    default(spec, "dnsPolicy", "ClusterFirst", "spec.dnsPolicy")
    default(spec, "securityContext", {}, "spec.securityContext")
    default(spec, "schedulerName", "default-scheduler", "spec.schedulerName")
    default(spec, "enableServiceLinks", True, "spec.enableServiceLinks")
    for i, c in enumerate(spec.get("containers") or []):
        p = f"spec.containers[{i}]"
        default(c, "terminationMessagePath", "/dev/termination-log", p + ".terminationMessagePath")
        default(c, "terminationMessagePolicy", "File", p + ".terminationMessagePolicy")
        if c.get("image"):
            default(c, "imagePullPolicy", default_pull_policy(c["image"]), p + ".imagePullPolicy")
        c.setdefault("resources", {})
    return changes
