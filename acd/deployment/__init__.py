"""The deployment's configuration: models, loading with precise errors, cross-file references."""

from acd.deployment.errors import ConfigError, Problem
from acd.deployment.loader import ReadDeployment, load_deployment, read_deployment
from acd.deployment.models import Deployment, QueueConfig, Role, Settings, UserConfig

__all__ = [
    "ConfigError",
    "Deployment",
    "Problem",
    "QueueConfig",
    "ReadDeployment",
    "Role",
    "Settings",
    "UserConfig",
    "load_deployment",
    "read_deployment",
]
