"""A run of a scenario, and its archive (events and final snapshot) once it has ended.

While a run is live its events live in Redis (dashboard/runlog.py); these tables are the durable copy.
"""
import uuid

from django.conf import settings
from django.db import models


class Run(models.Model):
    QUEUED, RUNNING, PAUSED = "queued", "running", "paused"
    SUCCEEDED, FAILED, CANCELLED = "succeeded", "failed", "cancelled"
    STATUS_CHOICES = [(s, s) for s in (QUEUED, RUNNING, PAUSED, SUCCEEDED, FAILED, CANCELLED)]
    ACTIVE = (QUEUED, RUNNING, PAUSED)
    FINISHED = (SUCCEEDED, FAILED, CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    scenario = models.CharField(max_length=64)
    backend = models.CharField(max_length=16, default="sim")
    params = models.JSONField(default=dict)
    speed = models.CharField(max_length=8, default="1")
    seed = models.BigIntegerField(default=0)
    step_mode = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=QUEUED, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="runs")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_seq = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        permissions = [("instructor", "Can start and control demo runs")]

    def __str__(self):
        return f"{self.scenario} {self.id.hex[:8]} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED


class RunEvent(models.Model):
    """One archived event; (run, seq) is unique so archiving twice cannot duplicate."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    data = models.JSONField()

    class Meta:
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="runevent_run_seq_unique")]


class RunSnapshot(models.Model):
    """The folded state (simulator.state) after event `seq`."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="snapshots")
    seq = models.PositiveIntegerField()
    state = models.JSONField()

    class Meta:
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="runsnapshot_run_seq_unique")]


class ClusterAccess(models.Model):
    """Who may use the live simulated cluster's Kubernetes API (dashboard/kubeapi), with which bearer token.

    Only the token's SHA-256 is kept: the token itself is shown once, inside the kubeconfig made for it
    (manage.py kubeconfig). Issuing a new kubeconfig replaces the token; deleting the row revokes it.
    """

    INSTRUCTOR, STUDENT, VIEWER = "instructor", "student", "viewer"
    ROLE_CHOICES = [(r, r) for r in (INSTRUCTOR, STUDENT, VIEWER)]

    name = models.SlugField(max_length=40, unique=True)
    role = models.CharField(max_length=16, choices=ROLE_CHOICES)
    token_sha256 = models.CharField(max_length=64, unique=True)
    # The dashboard account that downloaded it from the page (None: made with manage.py kubeconfig).
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="cluster_access")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.role})"

    @property
    def namespace(self) -> str:
        """A student's own namespace (others have none of their own)."""
        return f"student-{self.name}" if self.role == self.STUDENT else ""
