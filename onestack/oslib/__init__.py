"""The OS boundary: the only code that runs host commands.

Each module builds the argument lists of one tool as pure functions (tested as data);
`process.run` is the one place that executes them and translates their failures.
"""
