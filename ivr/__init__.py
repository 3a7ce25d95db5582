"""IVR flows: the flow model read from config/ivr/, the pure interpreter, and the speech it says.

`ivr.loader` (checks a flow against the deployment) and `ivr.synthesis` (espeak-ng, the prompt cache)
are imported by name: the deployment's loader reads flows, so re-exporting them here would be a cycle.
"""

from ivr.errors import FlowStateError, IvrError
from ivr.flow import Flow
from ivr.interpreter import Facts, FlowState, Session

__all__ = ["Facts", "Flow", "FlowState", "FlowStateError", "IvrError", "Session"]
