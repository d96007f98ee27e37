"""sealtail: a log agent whose shipped lines can be proven untouched.

The pipeline, one package per stage: tail → classify → seal → spool → ship → collector →
store → query/verify. `agent.daemon` wires them; `agent.cli` is the command line.
"""

__all__: list[str] = []
