"""kube-controller-manager's controllers (v1.31), each a reconcile loop over a rate-limited work queue fed
by shared informers (base.py): replicaset, deployment, garbagecollector, nodelifecycle and
taint-eviction, endpoints, endpointslice, namespace. `fakeapi` is an in-memory API for unit tests;
`apiclient` the REST client they use against the simulated API server."""
