"""Reproducing published trials: published results as data, and the audits that check them.

Import the submodules directly (for example ``trialkit.reproduce.published`` for the
published-results file of docs/published-results.md, ``trialkit.reproduce.abstract_audit`` for
what a published p-value and n imply). This package module imports nothing, so that
``trialkit validate`` and ``trialkit analyze`` stay fast.
"""
