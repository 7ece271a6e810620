"""What a run may use of its worker: cores, memory, workspace disk and GPUs.

A pipeline may leave any of them empty, taking the service's default (RUN_CPUS,
RUN_MEMORY_GB, RUN_DISK_GB, RUN_GPUS); a run records the values it was given.
"""

from dataclasses import asdict, dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

GB = 1024**3
# Counts said in sentences the service keeps (aicenter.wording.counted).
CORE, CORES = gettext_noop("1 core"), gettext_noop("%(count)s cores")
ONE_GPU, GPUS = gettext_noop("1 GPU"), gettext_noop("%(count)s GPUs")


@dataclass(frozen=True)
class Resources:
    cpus: int
    memory_gb: float
    disk_gb: float | None  # None: no cap beyond the worker's free space
    gpus: int

    @classmethod
    def with_defaults(cls, cpus=None, memory_gb=None, disk_gb=None, gpus=None) -> "Resources":
        return cls(
            cpus=cpus if cpus is not None else settings.RUN_CPUS,
            memory_gb=memory_gb if memory_gb is not None else settings.RUN_MEMORY_GB,
            disk_gb=disk_gb if disk_gb is not None else settings.RUN_DISK_GB,
            gpus=gpus if gpus is not None else settings.RUN_GPUS,
        )

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def summary(self) -> str:
        """ "1 core, 4 GB memory, no disk cap, no GPU", for a person."""
        disk = (
            _("no disk cap")
            if self.disk_gb is None
            else _("%(size)s disk") % {"size": gigabytes(self.disk_gb)}
        )
        return _("%(cores)s, %(memory)s, %(disk)s, %(gpus)s") % {
            "cores": cores_text(self.cpus),
            "memory": memory_text(self.memory_gb),
            "disk": disk,
            "gpus": gpus_text(self.gpus),
        }

    @property
    def memory_bytes(self) -> int:
        return int(self.memory_gb * GB)

    @property
    def disk_bytes(self) -> int | None:
        return None if self.disk_gb is None else int(self.disk_gb * GB)


def cores_text(count: int) -> str:
    return ngettext("%(count)s core", "%(count)s cores", count) % {"count": count}


def memory_text(gb: float) -> str:
    return _("%(size)s memory") % {"size": gigabytes(gb)}


def gpus_text(count: int) -> str:
    if count == 0:
        return _("no GPU")
    return ngettext("%(count)s GPU", "%(count)s GPUs", count) % {"count": count}


def gigabytes(value: float | None) -> str:
    """4 -> "4 GB", 0.5 -> "0.5 GB": as a person wrote it."""
    return f"{value:g} GB"
