"""The parts of the command line (the entry point is :func:`trialkit.cli.main`): output, folders, printouts."""
