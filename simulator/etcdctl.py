"""A teaching stand-in for `etcdctl -w json` (etcd v3.5) run against one fresh simulated MVCC store.

`python -m simulator etcdctl -w json --script FILE` reads one etcdctl command per line and prints, per
command, the line real `etcdctl -w json` prints for it:

  put K V                                   -> PutResponse JSON
  get K [END] [--prefix] [--rev=N] [--keys-only] [--limit=N]
                                            -> RangeResponse JSON
  del K [END] [--prefix]                    -> DeleteRangeResponse JSON
  compaction N                              -> "compacted revision N" (plain text even with -w json)
  txn                                       -> TxnResponse JSON; the compares, success ops and failure ops
                                               follow on the next lines, each section ended by a blank line
                                               (etcdctl's non-interactive txn input)

Blank lines between commands and lines starting with '#' are skipped; a leading word `etcdctl` is allowed.
A failing command prints etcdctl's `Error: ...` line in its place and the script goes on. Real etcdctl
writes that line to stderr and exits; here it goes to stdout so the transcript stays one line per command.

What is printed, and where each rule comes from (etcd v3.5 sources):
- etcdctl/ctlv3/command/printer_json.go: printJSON(v) is `json.Marshal(v)` + Println, i.e. Go's
  encoding/json on the protobuf structs - NOT jsonpb. So: []byte key/value are base64 strings, uint64/int64
  are plain JSON numbers, fields appear in struct order, and every generated field carries an
  `omitempty` json tag (api/etcdserverpb/rpc.pb.go, api/mvccpb/kv.pb.go), so zero values vanish:
    ResponseHeader  cluster_id, member_id, revision, raft_term           (json:"cluster_id,omitempty" ...)
    RangeResponse   header, kvs, more, count                             (count 0 / no kvs -> absent)
    PutResponse     header, prev_kv
    DeleteRangeResponse header, deleted, prev_kvs                        (deleted 0 -> absent)
    TxnResponse     header, succeeded, responses                         (succeeded false -> absent)
    mvccpb.KeyValue key, create_revision, mod_revision, version, value, lease (json:"create_revision,omitempty")
  ResponseOp's oneof field is `Response isResponseOp_Response` with no json tag, so encoding/json names it
  "Response"; the wrapper structs carry json:"response_range,omitempty" / "response_put,omitempty" /
  "response_delete_range,omitempty" - hence {"Response":{"response_put":{...}}}.
- Only the top-level header is filled with cluster_id/member_id/raft_term (api/v3rpc/header.go fill());
  the per-op responses inside a txn get a fresh `&pb.ResponseHeader{}` with only Revision set
  (server/etcdserver/apply.go: resp.Header.Revision = txn.Put(...) / txn.DeleteRange(...) / rr.Rev), so
  they print as {"header":{"revision":N}}. Inside a write txn, Put returns beginRev+1, DeleteRange returns
  beginRev+1 if it (or an earlier op) changed something else beginRev, Range reads at beginRev, +1 once
  the txn has written (server/mvcc/kvstore_txn.go).
- The top-level Range header carries the store's current revision even for --rev=N.
- etcdctl compaction: `fmt.Println("compacted revision", rev)` regardless of -w.
- txn input parsing follows etcdctl/ctlv3/command/txn_command.go (parseCompare: `target("key") op "val"`
  via Sscanf "%q) %s %q"; parseRequestUnion reuses the put/get/del commands) and its error texts.
- Value compares on a missing key always fail (server/etcdserver/apply.go applyCompare: "nil == empty
  string in grpc; no way to represent missing value"); other targets compare against 0.
- A txn that puts one key twice, or puts a key inside a range it deletes, is rejected with
  "etcdserver: duplicate key given in txn request" (apply.go checkIntervals), per branch.

cluster_id / member_id: fixed numbers, 14841639068965178418 and 10276657743932975437 - the ids a default
single-member `etcd` (name "default", http://localhost:2380, token "etcd-cluster") reports in etcd's own
docs examples; they are constants here so output is deterministic. raft_term: 2 - a fresh single-member
cluster starts at term 1 and its first election makes it leader at term 2, the value commonly seen in
`etcdctl -w json` output of a new cluster.
"""
from __future__ import annotations

import base64
import json
import re
import shlex
from dataclasses import dataclass, field

from .etcd.mvcc import CompactedError, KeyValue, MVCCStore, Op

CLUSTER_ID = 14841639068965178418  # fixed, deterministic (see module docstring)
MEMBER_ID = 10276657743932975437   # fixed, deterministic (see module docstring)
RAFT_TERM = 2                      # fresh single-member cluster after its first election

ERR_COMPACTED = "etcdserver: mvcc: required revision has been compacted"
ERR_FUTURE_REV = "etcdserver: mvcc: required revision is a future revision"
ERR_EMPTY_KEY = "etcdserver: key is not provided"
ERR_DUPLICATE_KEY = "etcdserver: duplicate key given in txn request"


class CommandError(Exception):
    """An etcdctl failure; str() is the text after "Error: "."""


# ---- JSON shaping (encoding/json on the protobuf structs; omitempty everywhere) -----------------------
def _b64(s: str) -> str:
    return base64.b64encode(s.encode("utf-8")).decode("ascii")


def _omit_empty(pairs: list[tuple[str, object]]) -> dict:
    """Go's omitempty: drop 0, false, "", nil and empty slices/maps; keep struct field order."""
    return {k: v for k, v in pairs if v not in (0, False, "", None) and v != [] and v != {}}


def _kv_json(kv: KeyValue, keys_only: bool) -> dict:
    return _omit_empty([("key", _b64(kv.key)), ("create_revision", kv.create_revision),
                        ("mod_revision", kv.mod_revision), ("version", kv.version),
                        ("value", "" if keys_only else _b64(kv.value)), ("lease", kv.lease)])


def _header(revision: int, full: bool = True) -> dict:
    if not full:  # txn sub-responses: only Revision is set
        return _omit_empty([("revision", revision)])
    return _omit_empty([("cluster_id", CLUSTER_ID), ("member_id", MEMBER_ID), ("revision", revision),
                        ("raft_term", RAFT_TERM)])


def _range_json(revision: int, kvs: list[KeyValue], count: int, more: bool, keys_only: bool,
                full: bool = True) -> dict:
    return _omit_empty([("header", _header(revision, full)), ("kvs", [_kv_json(kv, keys_only) for kv in kvs]),
                        ("more", more), ("count", count)])


def _dump(obj) -> str:
    # Go's encoding/json also escapes <, > and & in strings; ours are base64 only, so plain dumps matches.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# ---- command-line parsing (cobra/pflag style) -----------------------------------------------------------
@dataclass
class Request:
    kind: str                  # "put", "get", "del"
    key: str
    value: str = ""
    end: str | None = None     # explicit range_end
    prefix: bool = False
    rev: int = 0
    keys_only: bool = False
    limit: int = 0


_FLAGS = {  # command -> {flag: takes_value}
    "put": {},
    "get": {"prefix": False, "rev": True, "keys-only": False, "limit": True},
    "del": {"prefix": False},
}


def _parse_int_flag(name: str, raw: str) -> int:
    try:
        return int(raw, 10) if re.fullmatch(r"[+-]?\d+", raw) else int("x")
    except ValueError:
        raise CommandError(f'invalid argument "{raw}" for "--{name}" flag: strconv.ParseInt: parsing '
                           f'"{raw}": invalid syntax') from None


def flag_value(args: list[str], i: int, name: str, eq: str, val: str) -> tuple[str, int]:
    """A flag's value, given as --name=value or as the next word (cobra/pflag): (value, index of the last
    word it used)."""
    if eq:
        return val, i
    if i + 1 >= len(args):
        raise CommandError(f"flag needs an argument: --{name}")
    return args[i + 1], i + 1


def _split_flags(cmd: str, args: list[str]) -> tuple[list[str], dict]:
    spec = _FLAGS[cmd]
    pos: list[str] = []
    flags: dict = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            pos.extend(args[i + 1:])
            break
        if a.startswith("--") and len(a) > 2:
            name, eq, val = a[2:].partition("=")
            if name not in spec:
                raise CommandError(f"unknown flag: --{name}")
            if spec[name]:
                val, i = flag_value(args, i, name, eq, val)
                flags[name] = _parse_int_flag(name, val)
            else:
                if eq and val.lower() not in ("true", "false", "1", "0", "t", "f"):
                    raise CommandError(f'invalid argument "{val}" for "--{name}" flag: strconv.ParseBool: '
                                       f'parsing "{val}": invalid syntax')
                flags[name] = (val.lower() in ("true", "1", "t")) if eq else True
        elif a.startswith("-") and len(a) > 1:
            raise CommandError(f"unknown shorthand flag: '{a[1]}' in {a}")
        else:
            pos.append(a)
        i += 1
    return pos, flags


def parse_request(args: list[str]) -> Request:
    """put/get/del with their flags, as etcdctl's getPutOp/getGetOp/getDelOp read them."""
    cmd, rest = args[0], args[1:]
    pos, flags = _split_flags(cmd, rest)
    if cmd == "put":
        if len(pos) != 2:
            raise CommandError("put command needs 1 argument and input from stdin or 2 arguments")
        return Request("put", pos[0], pos[1])
    if cmd == "get":
        if not pos:
            raise CommandError("get command needs arguments")
        if flags.get("prefix") and len(pos) > 1:
            raise CommandError("too many arguments, only accept one argument when `--prefix` is set.")
        if len(pos) > 2:
            raise CommandError("too many arguments, only accept key and range_end")  # our wording
        return Request("get", pos[0], end=pos[1] if len(pos) == 2 else None, prefix=flags.get("prefix", False),
                       rev=flags.get("rev", 0), keys_only=flags.get("keys-only", False),
                       limit=flags.get("limit", 0))
    # del
    if not pos or len(pos) > 2:
        raise CommandError("del command needs one argument as key and an optional argument as range_end")
    if flags.get("prefix") and len(pos) > 1:
        raise CommandError("too many arguments, only accept one argument when `--prefix` is set.")
    return Request("del", pos[0], end=pos[1] if len(pos) == 2 else None, prefix=flags.get("prefix", False))


_GO_QUOTED = r'"(?:[^"\\]|\\.)*"|`[^`]*`'
_COMPARE_RE = re.compile(rf"^(?P<target>[^(]*)\((?P<key>{_GO_QUOTED})\)\s+(?P<op>\S+)\s+(?P<val>{_GO_QUOTED})\s*$")


@dataclass
class Cmp:
    target: str   # "version", "create_revision", "mod_revision", "value"
    key: str
    op: str       # "=", "!=", ">", "<"
    value: object


def _unquote(q: str) -> str:
    if q.startswith("`"):
        return q[1:-1]
    return json.loads(q)  # Go's strconv.Unquote for the common escapes


def parse_compare(line: str) -> Cmp:
    """etcdctl txn_command.go parseCompare: `target("key") op "value"`."""
    if "(" not in line:
        raise CommandError(f"malformed comparison: {line}")
    m = _COMPARE_RE.match(line)
    if not m:
        raise CommandError(f"malformed comparison: {line}")
    try:
        key, val = _unquote(m["key"]), _unquote(m["val"])
    except ValueError:
        raise CommandError(f"malformed comparison: {line}") from None
    target, op = m["target"], m["op"]
    names = {"ver": "version", "version": "version", "c": "create_revision", "create": "create_revision",
             "m": "mod_revision", "mod": "mod_revision", "val": "value", "value": "value"}
    if target not in names:
        raise CommandError(f"malformed comparison: {line} (unknown target {target})")
    if op not in ("=", "!=", ">", "<"):
        # clientv3.Compare panics ("Unknown result op"); we report it as an error line instead.
        raise CommandError(f"malformed comparison: {line} (unknown result op {op})")
    t = names[target]
    if t != "value":
        if not re.fullmatch(r"[+-]?\d+", val):
            raise CommandError(f"invalid txn compare request: {line}")
        return Cmp(t, key, op, int(val))
    return Cmp(t, key, op, val)


def parse_txn_op(line: str) -> Request:
    """etcdctl txn_command.go parseRequestUnion: the put/get/del commands, flags included."""
    try:
        args = shlex.split(line)
    except ValueError:
        raise CommandError(f"invalid txn request: {line}") from None
    if len(args) < 2:
        raise CommandError(f"invalid txn compare request: {line}")  # sic: etcdctl's wording
    if args[0] not in _FLAGS:
        raise CommandError(f"invalid txn request: {line}")
    try:
        return parse_request(args)
    except CommandError as e:
        if str(e).startswith(("unknown flag", "unknown shorthand", "invalid argument", "flag needs")):
            raise CommandError(f"invalid txn request: {line}") from None  # cobra Execute() failed
        raise


@dataclass
class TxnSpec:
    compares: list[Cmp] = field(default_factory=list)
    success: list[Request] = field(default_factory=list)
    failure: list[Request] = field(default_factory=list)


# ---- execution -------------------------------------------------------------------------------------------
def _in_range(k: str, r: Request) -> bool:
    if r.prefix:
        return k.startswith(r.key)
    if r.end is not None:
        return r.key <= k and (r.end == "\x00" or k < r.end)
    return k == r.key


class Etcdctl:
    def __init__(self) -> None:
        self.store = MVCCStore()  # a fresh store is at revision 1, like a fresh etcd

    # -- script driver --
    def run_script(self, text: str) -> list[str]:
        lines = text.splitlines()
        out: list[str] = []
        i = 0
        while i < len(lines):
            raw = lines[i].strip()
            i += 1
            if not raw or raw.startswith("#"):
                continue
            try:
                args = shlex.split(raw)
            except ValueError as e:  # shlex: unbalanced quotes (a shell would refuse the line)
                out.append(f"Error: cannot parse command line: {e}")
                continue
            if args and args[0] == "etcdctl":
                args = args[1:]
            if not args:
                continue
            if args[0] == "txn":
                i, line = self._txn_from_lines(args, lines, i)
                out.append(line)
                continue
            try:
                out.append(self.execute(args))
            except CommandError as e:
                out.append(f"Error: {e}")
        return out

    def _txn_from_lines(self, args: list[str], lines: list[str], i: int) -> tuple[int, str]:
        """Read the three blank-line-terminated sections; always consume them, even after an error."""
        sections: list[list[str]] = []
        eof = False
        for _ in range(3):
            sec: list[str] = []
            while True:
                if i >= len(lines):
                    eof = True
                    break
                line = lines[i].strip()
                i += 1
                if not line:
                    break
                sec.append(line)
            sections.append(sec)
            if eof:
                break
        if len(args) > 1:
            return i, "Error: txn command does not accept argument"
        try:
            spec = TxnSpec()
            spec.compares = [parse_compare(ln) for ln in sections[0]]
            if len(sections) > 1:
                spec.success = [parse_txn_op(ln) for ln in sections[1]]
            if len(sections) > 2:
                spec.failure = [parse_txn_op(ln) for ln in sections[2]]
            if eof:  # bufio.Reader.ReadString hit the end before the txn's last blank line
                raise CommandError("EOF")
            return i, _dump(self.txn(spec))
        except CommandError as e:
            return i, f"Error: {e}"

    def execute(self, args: list[str]) -> str:
        cmd = args[0]
        if cmd in ("put", "get", "del"):
            req = parse_request(args)
            return _dump(self.top_level(req))
        if cmd == "compaction":
            pos, rest = [a for a in args[1:] if not a.startswith("--")], [a for a in args[1:] if a.startswith("--")]
            for flag in rest:
                if flag.split("=", 1)[0] not in ("--physical",):
                    raise CommandError(f"unknown flag: {flag.split('=', 1)[0]}")
            if len(pos) != 1:
                raise CommandError("compaction command needs 1 argument")
            if not re.fullmatch(r"[+-]?\d+", pos[0]):
                raise CommandError(f'strconv.ParseInt: parsing "{pos[0]}": invalid syntax')
            rev = int(pos[0])
            self.compact(rev)
            return f"compacted revision {rev}"
        raise CommandError(f'unknown command "{cmd}" for "etcdctl"')

    def compact(self, rev: int) -> None:
        # etcd mvcc kvstore.go updateCompactRev: rev <= compactMainRev -> ErrCompacted; rev > currentRev -> ErrFutureRev
        if rev <= self.store.compact_revision:
            raise CommandError(ERR_COMPACTED)
        if rev > self.store.revision:
            raise CommandError(ERR_FUTURE_REV)
        try:
            self.store.compact(rev)
        except CompactedError:
            raise CommandError(ERR_COMPACTED) from None

    # -- reads --
    def _live_range(self, req: Request, revision: int | None, overlay: dict | None = None) -> list[KeyValue]:
        """Keys in [key, end) / prefix / exact, in byte order, as of `revision` (None: now, plus overlay)."""
        if req.prefix and req.key == "":
            base = self.store.range("", prefix=True, revision=revision)
        elif req.prefix:
            base = self.store.range(req.key, prefix=True, revision=revision)
        elif req.end is not None:
            base = [kv for kv in self.store.range("", prefix=True, revision=revision) if _in_range(kv.key, req)]
        else:
            base = self.store.range(req.key, revision=revision)
        if not overlay:
            return base
        merged = {kv.key: kv for kv in base}
        for k, kv in overlay.items():
            if _in_range(k, req):
                if kv is None:
                    merged.pop(k, None)
                else:
                    merged[k] = kv
        return [merged[k] for k in sorted(merged, key=lambda s: s.encode("utf-8"))]

    def _check_read_rev(self, rev: int) -> int | None:
        # etcd mvcc kvstore_txn.go rangeKeys: rev > curRev -> ErrFutureRev; rev <= 0 -> current;
        # rev < compactMainRev -> ErrCompacted.
        if rev > self.store.revision:
            raise CommandError(ERR_FUTURE_REV)
        if rev <= 0:
            return None
        if rev < self.store.compact_revision:
            raise CommandError(ERR_COMPACTED)
        return rev

    @staticmethod
    def _check_key(req: Request) -> None:
        if req.key == "" and not req.prefix:
            raise CommandError(ERR_EMPTY_KEY)

    def get(self, req: Request) -> tuple[list[KeyValue], list[KeyValue]]:
        """A get's keys in range, and those shown (after --limit). Raises CommandError."""
        self._check_key(req)
        kvs = self._live_range(req, self._check_read_rev(req.rev))
        return kvs, (kvs[:req.limit] if req.limit > 0 else kvs)

    def top_level(self, req: Request) -> dict:
        if req.kind == "get":
            kvs, shown = self.get(req)
            return _range_json(self.store.revision, shown, len(kvs), len(shown) < len(kvs), req.keys_only)
        self._check_key(req)
        if req.kind == "put":
            kv = self.store.put(req.key, req.value)
            return _omit_empty([("header", _header(kv.mod_revision))])
        # del: one revision for everything it deletes
        victims = [kv.key for kv in self._live_range(req, None)]
        if victims:
            self.store.txn([], [Op.delete(k) for k in victims])
        return _omit_empty([("header", _header(self.store.revision)), ("deleted", len(victims))])

    # -- txn --
    def _compare_holds(self, c: Cmp) -> bool:
        kv = self.store.get(c.key)
        if kv is None:
            if c.target == "value":
                return False  # etcd: a value compare on a missing key always fails
            actual: object = 0
        else:
            actual = getattr(kv, c.target)
        want = c.value
        if c.target == "value":
            actual, want = str(actual).encode("utf-8"), str(want).encode("utf-8")
        return {"=": actual == want, "!=": actual != want, ">": actual > want, "<": actual < want}[c.op]

    def _check_intervals(self, ops: list[Request]) -> None:
        puts: set[str] = set()
        dels = [r for r in ops if r.kind == "del"]
        for r in ops:
            if r.kind == "put":
                if r.key in puts:
                    raise CommandError(ERR_DUPLICATE_KEY)
                puts.add(r.key)
        for d in dels:
            if any(_in_range(k, d) for k in puts):
                raise CommandError(ERR_DUPLICATE_KEY)

    def txn(self, spec: TxnSpec) -> dict:
        for ops in (spec.success, spec.failure):
            for r in ops:
                self._check_key(r)
            self._check_intervals(ops)
        ok = all(self._compare_holds(c) for c in spec.compares)
        ops = spec.success if ok else spec.failure
        begin = self.store.revision
        new_rev = begin + 1
        overlay: dict[str, KeyValue | None] = {}
        writes: list[Op] = []
        responses: list[dict] = []
        changed = False

        def live(k: str) -> KeyValue | None:
            return overlay[k] if k in overlay else self.store.get(k)

        for r in ops:
            if r.kind == "get":
                rev = self._check_read_rev(r.rev)
                kvs = self._live_range(r, rev, None if rev is not None else overlay)
                shown = kvs[:r.limit] if r.limit > 0 else kvs
                body = _range_json(begin + 1 if changed else begin, shown, len(kvs), len(shown) < len(kvs),
                                   r.keys_only, full=False)
                responses.append({"Response": {"response_range": body}})
            elif r.kind == "put":
                prev = live(r.key)
                overlay[r.key] = KeyValue(r.key, r.value, prev.create_revision if prev else new_rev, new_rev,
                                          (prev.version + 1) if prev else 1)
                writes.append(Op.put(r.key, r.value))
                changed = True
                responses.append({"Response": {"response_put": {"header": _header(new_rev, full=False)}}})
            else:
                victims = [kv.key for kv in self._live_range(r, None, overlay)]
                for k in victims:
                    overlay[k] = None
                    writes.append(Op.delete(k))
                changed = changed or bool(victims)
                body = _omit_empty([("header", _header(new_rev if changed else begin, full=False)),
                                    ("deleted", len(victims))])
                responses.append({"Response": {"response_delete_range": body}})
        if writes:
            self.store.txn([], writes)
            assert self.store.revision == new_rev
        return _omit_empty([("header", _header(self.store.revision)), ("succeeded", ok), ("responses", responses)])


def run(text: str) -> list[str]:
    return Etcdctl().run_script(text)
