"""K8s Internals Dashboard - the simulator: a deterministic discrete-event model of a Kubernetes control
plane. Pure Python (stdlib only); imports nothing from Django or Celery.

    from simulator import scenarios, state, events
    from simulator.runner import Simulation
"""
