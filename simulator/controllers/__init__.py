"""kube-controller-manager's controllers (v1.31), each a reconcile loop over a rate-limited work queue fed
by shared informers (base.py): replicaset, deployment, garbagecollector, nodelifecycle and
taint-eviction, endpoints, endpointslice, namespace. `apiclient` is the REST client they use against the
simulated API server; their unit tests can also run them against tests/sim/fakeapi.py, an in-memory API."""
