"""The container process model: argv from command/args and the image, the sh -c subset, the per-container
filesystem and log, exec for probes, signals, and whether an image exists at its registry."""
import random

from simulator.kernel import Environment
from simulator.kubelet import images
from simulator.kubelet.backoff import Backoff
from simulator.kubelet.runtime import ContainerRuntime, StartError, container_argv


def _runtime():
    env = Environment()
    rt = ContainerRuntime("worker-1", "10.244.1.0/24", random.Random(1))
    rt.env = env
    exits = []
    rt.on_exit = exits.append
    return env, rt, exits


def _start(rt, image, **spec):
    cid = rt.create_container("uid-1", "c", image, spec)
    rt.start_container(cid)
    return rt.containers[cid]


def test_argv_follows_kubernetes_command_and_args_rules():
    assert container_argv({}, "nginx") == ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]
    assert container_argv({"args": ["echo", "hi"]}, "nginx") == ["/docker-entrypoint.sh", "echo", "hi"]
    assert container_argv({"command": ["sleep"], "args": ["5"]}, "nginx") == ["sleep", "5"]
    assert container_argv({}, "busybox") == ["sh"]


def test_docs_liveness_script_runs_on_the_clock_with_its_own_files():
    env, rt, exits = _runtime()
    c = _start(rt, "registry.k8s.io/busybox:1.27.2",
               args=["/bin/sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"])
    env.run_until(29)
    assert c.running and "/tmp/healthy" in c.fs.files
    assert rt.exec_sync(c.id, ["cat", "/tmp/healthy"], 1) == (0, "", False)
    env.run_until(31)
    assert "/tmp/healthy" not in c.fs.files
    code, out, _ = rt.exec_sync(c.id, ["cat", "/tmp/healthy"], 1)
    assert code == 1 and out == "cat: can't open '/tmp/healthy': No such file or directory"
    env.run_until(629)
    assert c.running
    env.run_until(631)
    assert not c.running and c.exit_code == 0 and c.reason == "Completed" and exits == [c]


def test_exit_codes_unknown_commands_and_the_log():
    env, rt, _ = _runtime()
    c = _start(rt, "busybox", command=["sh", "-c", "echo starting; frobnicate --now; exit 3"])
    env.run_until(1)
    assert (c.exit_code, c.reason) == (3, "Error")
    assert rt.logs(c.id) == ["starting", "sh: frobnicate: not found"]
    c2 = _start(rt, "busybox", command=["sh", "-c", "frobnicate"])
    env.run_until(2)
    assert c2.exit_code == 127
    c3 = _start(rt, "busybox", command=["sh", "-c", "false && echo no || echo yes; echo ok > /tmp/f && cat /tmp/f"])
    env.run_until(3)
    assert rt.logs(c3.id) == ["yes", "ok"] and c3.exit_code == 0


def test_bare_busybox_exits_at_once_and_a_missing_executable_cannot_start():
    env, rt, _ = _runtime()
    c = _start(rt, "busybox")
    env.run_until(0.5)
    assert (c.exit_code, c.reason) == (0, "Completed")
    cid = rt.create_container("uid-1", "x", "busybox", {"command": ["/app/server"]})
    try:
        rt.start_container(cid)
        raise AssertionError("started")
    except StartError as e:
        assert 'exec: "/app/server": executable file not found in $PATH' in str(e)
    assert rt.containers[cid].exit_code == 128 and rt.containers[cid].reason == "StartError"


def test_while_loop_and_sleep_infinity():
    env, rt, _ = _runtime()
    c = _start(rt, "busybox", command=["sh", "-c", "while true; do echo hello; sleep 10; done"])
    env.run_until(35)
    assert rt.logs(c.id) == ["hello"] * 4
    c2 = _start(rt, "busybox", command=["sleep", "infinity"])
    env.run_until(10_000)
    assert c2.running


def test_stop_signal_nginx_exits_promptly_sleep_is_killed_at_the_deadline():
    env, rt, _ = _runtime()
    web = _start(rt, "nginx")
    sleeper = _start(rt, "busybox", command=["sh", "-c", "sleep 3600"])
    env.run_until(1)
    assert 80 in web.listening() and not sleeper.listening()
    f1, f2 = rt.stop_container(web.id, 30), rt.stop_container(sleeper.id, 30)
    env.run_until(2)
    assert f1.done and web.exit_code == 0 and not f2.done
    env.run_until(30.5)
    assert f2.done and sleeper.exit_code == 137 and sleeper.reason == "Error"


def test_which_images_exist():
    assert images.resolve("nginx") is None and images.resolve("nginx:1.27") is None
    code, msg = images.resolve("nginx:nonexistent")
    assert code == "NotFound"
    assert msg == ('failed to pull and unpack image "docker.io/library/nginx:nonexistent": failed to resolve reference '
                   '"docker.io/library/nginx:nonexistent": docker.io/library/nginx:nonexistent: not found')
    code, msg = images.resolve("agentx")
    assert code == "Unknown" and msg.endswith("pull access denied, repository does not exist or may require "
                                              "authorization: server message: insufficient_scope: authorization failed")
    assert images.resolve("registry.k8s.io/nope:1")[0] == "NotFound"


def test_backoff_doubles_to_five_minutes_and_resets_after_ten():
    b = Backoff()
    seen, t = [], 0.0
    for _ in range(8):
        b.next("k", t, t)
        seen.append(b.get("k"))
        t += b.get("k") + 1
    assert seen == [10, 20, 40, 80, 160, 300, 300, 300]
    assert b.in_backoff_since("k", t, t + 299) and not b.in_backoff_since("k", t, t + 300)
    b.next("k", t + 601 + 300, t + 601 + 300)  # the last update is more than 10 min old: start again
    assert b.get("k") == 10
