"""python -m simulator etcdctl -w json --script FILE, run as a subprocess: etcdctl v3.5's JSON lines."""
import base64
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADER = {"cluster_id": 14841639068965178418, "member_id": 10276657743932975437, "raft_term": 2}


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def ctl(tmp_path, script: str, *extra):
    f = tmp_path / "script.txt"
    f.write_text(script)
    return subprocess.run([sys.executable, "-m", "simulator", "etcdctl", "-w", "json", "--script", str(f), *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def lines(tmp_path, script: str) -> list[str]:
    r = ctl(tmp_path, script)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def objs(tmp_path, script: str) -> list:
    return [json.loads(x) if x.startswith("{") else x for x in lines(tmp_path, script)]


def test_put_put_del_put_revisions_and_versions(tmp_path):
    out = objs(tmp_path, "put foo bar\nput foo baz\nget foo\ndel foo\nget foo\nput foo again\nget foo\n")
    assert out[0] == {"header": {**HEADER, "revision": 2}}  # a fresh store is at revision 1
    assert out[1]["header"]["revision"] == 3
    assert out[2] == {"header": {**HEADER, "revision": 3},
                      "kvs": [{"key": b64("foo"), "create_revision": 2, "mod_revision": 3, "version": 2,
                               "value": b64("baz")}], "count": 1}
    assert out[3] == {"header": {**HEADER, "revision": 4}, "deleted": 1}
    assert out[4] == {"header": {**HEADER, "revision": 4}}  # no kvs, count 0 omitted
    assert out[5]["header"]["revision"] == 5
    assert out[6]["kvs"] == [{"key": b64("foo"), "create_revision": 5, "mod_revision": 5, "version": 1,
                              "value": b64("again")}]


def test_header_field_order_and_compact_json(tmp_path):
    first = lines(tmp_path, "put a 1\n")[0]
    assert first == ('{"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,'
                     '"revision":2,"raft_term":2}}')


def test_prefix_get_keys_only_and_prefix_delete_counts(tmp_path):
    out = objs(tmp_path, "put /reg/pods/a 1\nput /reg/pods/b 2\nput /reg/svc/x 3\n"
                         "get /reg/pods --prefix\nget /reg --prefix --keys-only\n"
                         "del /reg/pods --prefix\ndel /reg/pods --prefix\nget /reg --prefix\n")
    assert out[3]["count"] == 2
    assert [kv["key"] for kv in out[3]["kvs"]] == [b64("/reg/pods/a"), b64("/reg/pods/b")]
    assert out[4]["count"] == 3
    assert all("value" not in kv and kv["version"] == 1 for kv in out[4]["kvs"])
    assert out[5] == {"header": {**HEADER, "revision": 5}, "deleted": 2}  # one revision for the whole range
    assert out[6] == {"header": {**HEADER, "revision": 5}}  # deleted 0 omitted, no new revision
    assert out[7]["count"] == 1 and out[7]["kvs"][0]["key"] == b64("/reg/svc/x")


def test_get_old_revision_compaction_and_future_revision(tmp_path):
    out = lines(tmp_path, "put k v1\nput k v2\nput k v3\nget k --rev=2\nget k --rev 3\n"
                          "compaction 3\nget k --rev=2\nget k --rev=3\nget k --rev=99\ncompaction 3\ncompaction 50\n")
    old = json.loads(out[3])
    assert old["header"]["revision"] == 4  # the header shows the current revision
    assert old["kvs"][0]["value"] == b64("v1") and old["kvs"][0]["mod_revision"] == 2
    assert json.loads(out[4])["kvs"][0]["value"] == b64("v2")
    assert out[5] == "compacted revision 3"
    assert out[6] == "Error: etcdserver: mvcc: required revision has been compacted"
    assert json.loads(out[7])["kvs"][0]["value"] == b64("v2")  # the compacted revision itself stays readable
    assert out[8] == "Error: etcdserver: mvcc: required revision is a future revision"
    assert out[9] == "Error: etcdserver: mvcc: required revision has been compacted"
    assert out[10] == "Error: etcdserver: mvcc: required revision is a future revision"


TXN_SCRIPT = """put cfg one
txn
mod("cfg") = "2"
value("cfg") = "one"

put cfg two
get cfg

put cfg conflict

txn
version("cfg") = "1"

put other x

del cfg
get cfg

"""


def test_txn_success_and_failure_branches(tmp_path):
    out = lines(tmp_path, TXN_SCRIPT)
    ok, bad = json.loads(out[1]), json.loads(out[2])
    assert ok == {"header": {**HEADER, "revision": 3}, "succeeded": True, "responses": [
        {"Response": {"response_put": {"header": {"revision": 3}}}},
        {"Response": {"response_range": {"header": {"revision": 3}, "kvs": [
            {"key": b64("cfg"), "create_revision": 2, "mod_revision": 3, "version": 2, "value": b64("two")}],
            "count": 1}}}]}
    # version is 2 now: the failure branch runs, "succeeded" (false) is omitted
    assert bad == {"header": {**HEADER, "revision": 4}, "responses": [
        {"Response": {"response_delete_range": {"header": {"revision": 4}, "deleted": 1}}},
        {"Response": {"response_range": {"header": {"revision": 4}}}}]}
    assert len(out) == 3


def test_txn_read_only_and_value_compare_on_missing_key(tmp_path):
    out = objs(tmp_path, 'put a 1\ntxn\nvalue("missing") != "x"\n\nput a 2\n\nget a\n\nget a\n')
    assert "succeeded" not in out[1]  # value compares on a missing key always fail in etcd
    assert out[1]["header"]["revision"] == 2  # nothing written: no new revision
    assert out[1]["responses"][0]["Response"]["response_range"]["kvs"][0]["value"] == b64("1")
    assert out[2]["kvs"][0]["value"] == b64("1")


def test_txn_parse_errors_consume_the_block(tmp_path):
    out = lines(tmp_path, 'txn\nmod(k) = "1"\n\n\n\nput after 1\ntxn\n\nput d 1\nput d 2\n\n\nget d\ntxn extra\n')
    assert out[0].startswith("Error: malformed comparison: mod(k)")
    assert json.loads(out[1])["header"]["revision"] == 2
    assert out[2] == "Error: etcdserver: duplicate key given in txn request"
    assert json.loads(out[3]) == {"header": {**HEADER, "revision": 2}}
    assert out[4] == "Error: txn command does not accept argument"


def test_base64_quoting_and_bad_lines_do_not_abort(tmp_path):
    out = lines(tmp_path, 'put "key with space" "välue ✓"\nget "key with space"\nfrobnicate x\nget\n'
                          'get k --bogus\nput onlykey\nput "open\ncompaction abc\nput z 1\n')
    kv = json.loads(out[1])["kvs"][0]
    assert kv["key"] == b64("key with space") and base64.b64decode(kv["value"]).decode() == "välue ✓"
    assert out[2] == 'Error: unknown command "frobnicate" for "etcdctl"'
    assert out[3] == "Error: get command needs arguments"
    assert out[4] == "Error: unknown flag: --bogus"
    assert out[5] == "Error: put command needs 1 argument and input from stdin or 2 arguments"
    assert out[6].startswith("Error: ")
    assert out[7] == 'Error: strconv.ParseInt: parsing "abc": invalid syntax'
    assert json.loads(out[8])["header"]["revision"] == 3


def test_rerun_is_byte_identical(tmp_path):
    a, b = ctl(tmp_path, TXN_SCRIPT), ctl(tmp_path, TXN_SCRIPT)
    assert a.returncode == 0 and a.stdout == b.stdout and a.stdout


def test_bad_invocation_exits_2_naming_the_problem(tmp_path):
    r = subprocess.run([sys.executable, "-m", "simulator", "etcdctl", "-w", "json", "--script",
                        str(tmp_path / "nope.txt")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "nope.txt" in r.stderr and r.stdout == ""
    f = tmp_path / "s.txt"
    f.write_text("put a 1\n")
    r = subprocess.run([sys.executable, "-m", "simulator", "etcdctl", "-w", "table", "--script", str(f)],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "-w" in r.stderr and "table" in r.stderr
    r = subprocess.run([sys.executable, "-m", "simulator", "etcdctl", "-w", "json"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--script" in r.stderr
