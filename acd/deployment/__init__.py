"""The deployment's configuration: models, loading with precise errors, cross-file references."""

from acd.deployment.errors import ConfigError, Problem
from acd.deployment.loader import load_deployment
from acd.deployment.models import Deployment, QueueConfig, Role, Settings, UserConfig

__all__ = ["ConfigError", "Deployment", "Problem", "QueueConfig", "Role", "Settings", "UserConfig", "load_deployment"]
